import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';

/**
 * @typedef {{ query(sql: string, params?: unknown[]): Promise<{ rows: unknown[]; rowCount: number }> }} SeedExecutor
 * @typedef {SeedExecutor & { engine: 'pglite'; exec(sql: string): Promise<void>; transaction<T>(fn: (tx: SeedExecutor) => Promise<T>): Promise<T> }} SeedStore
 * @typedef {(store: SeedStore) => Promise<number[]>} Migrate the server's migrate(), compiled by the build
 * @typedef {{ version: number; sql: string }} SeedMigration
 */

/**
 * Writes `<outdir>/pglite.tar.gz`: a PGlite cluster with every migration applied, which an empty
 * data folder is unpacked from (server/src/stores/relational/pglite/seed.ts). initdb in
 * WebAssembly costs 7-9 s of CPU and the migrations another 2-4 s: paid here once instead of at
 * every first start and by every test that opens a new embedded database. The server still runs
 * migrate() at every start, so a seed older than the code only costs the migrations it lacks.
 * Here, in the server package, because PGlite is the server's dependency (scripts/build.mjs calls it).
 * Gzip, not a plain tar: 5 MB instead of 43, and unpacking either costs the same CPU (the time
 * goes into writing the files, not into gunzip).
 * Beside it `migrations.json`, each applied migration's version and SQL hash: a checkout whose
 * migration was edited since (one not yet released) must not start from the old one's schema.
 * @param {string} outdir
 * @param {Migrate} migrate
 * @param {readonly SeedMigration[]} migrations what `migrate` applies
 */
export async function writePgliteSeed(outdir, migrate, migrations) {
  const db = await PGlite.create({ dataDir: 'memory://' });
  try {
    await migrate(seedStore(db));
    // Everything in the data files, so a database unpacked from the seed replays no WAL at its first start.
    await db.exec('CHECKPOINT');
    const packed = await db.dumpDataDir('gzip');
    mkdirSync(outdir, { recursive: true });
    writeFileSync(join(outdir, 'pglite.tar.gz'), Buffer.from(await packed.arrayBuffer()));
    const held = migrations.map(({ version, sql }) => ({ version, sha256: createHash('sha256').update(sql).digest('hex') }));
    writeFileSync(join(outdir, 'migrations.json'), `${JSON.stringify(held, null, 1)}\n`);
  } finally {
    await db.close();
  }
}

/**
 * The part of the server's RelationalStore that migrate() uses, over PGlite as the server's own
 * store runs it (server/src/stores/relational/pglite/pglite-store.ts).
 * @param {PGlite} db
 * @returns {SeedStore}
 */
function seedStore(db) {
  /** @param {Pick<PGlite, 'query'>} on @returns {SeedExecutor} */
  const executor = (on) => ({
    async query(sql, params) {
      const result = await on.query(sql, params);
      return { rows: result.rows, rowCount: result.rows.length > 0 ? result.rows.length : (result.affectedRows ?? 0) };
    },
  });
  return {
    engine: 'pglite',
    ...executor(db),
    async exec(sql) {
      await db.exec(sql);
    },
    transaction: (fn) => db.transaction((tx) => fn(executor(tx))),
  };
}
