import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';

/**
 * @typedef {{ query(sql: string, params?: unknown[]): Promise<{ rows: unknown[]; rowCount: number }> }} SeedExecutor
 * @typedef {SeedExecutor & { engine: 'pglite'; exec(sql: string): Promise<void>; transaction<T>(fn: (tx: SeedExecutor) => Promise<T>): Promise<T> }} SeedStore
 * @typedef {(store: SeedStore) => Promise<number[]>} Migrate the server's migrate(), compiled by the build
 * @typedef {{ version: number; sql: string }} SeedMigration
 */

/** The cluster folder inside the seed (server/src/stores/relational/pglite/seed.ts copies it). */
export const SEED_CLUSTER_DIR = 'cluster';

/**
 * Writes a PGlite cluster with every migration applied, in two forms: `<outdir>/cluster`, the
 * folder an empty data folder is filled from by a plain file copy, and `<outdir>/pglite.tar.gz`,
 * which an in-memory database (tests) loads (server/src/stores/relational/pglite/seed.ts).
 * initdb in WebAssembly costs 7-9 s of CPU and the migrations another 2-4 s: paid here once
 * instead of at every first start and by every test that opens a new embedded database. The
 * folder is there because unpacking the tarball through PGlite's file system cost 2-2.5 s of CPU
 * at each of those starts, writing 1,300 files one WebAssembly call at a time; copying them
 * natively costs a fraction of that (43 MB on disk instead of 5).
 * The server still runs migrate() at every start, so a seed older than the code only costs the
 * migrations it lacks. Here, in the server package, because PGlite is the server's dependency
 * (scripts/build.mjs calls it).
 * Beside them `migrations.json`, each applied migration's version and SQL hash: a checkout whose
 * migration was edited since (one not yet released) must not start from the old one's schema.
 * @param {string} outdir
 * @param {Migrate} migrate
 * @param {readonly SeedMigration[]} migrations what `migrate` applies
 */
export async function writePgliteSeed(outdir, migrate, migrations) {
  mkdirSync(outdir, { recursive: true });
  // On disk, as the server's store keeps it: the folder is what PGlite leaves at a clean close,
  // which every restart of an existing data folder resumes from.
  const db = await PGlite.create({ dataDir: join(outdir, SEED_CLUSTER_DIR) });
  try {
    await migrate(seedStore(db));
    // Everything in the data files, so a database made from the seed replays no WAL at its first start.
    await db.exec('CHECKPOINT');
    const packed = await db.dumpDataDir('gzip');
    writeFileSync(join(outdir, 'pglite.tar.gz'), Buffer.from(await packed.arrayBuffer()));
  } finally {
    await db.close();
  }
  readableByAllWritableByOwner(join(outdir, SEED_CLUSTER_DIR));
  const held = migrations.map(({ version, sql }) => ({ version, sha256: createHash('sha256').update(sql).digest('hex') }));
  writeFileSync(join(outdir, 'migrations.json'), `${JSON.stringify(held, null, 1)}\n`);
}

/**
 * PostgreSQL in WASM asks for 0666 on the files initdb writes. An installed seed is read by the
 * server's account (not always its owner: `USER node` in the Docker image reads root's files) and
 * must be changed by nobody else: every new database starts from it. Copies are owner-only
 * (server/src/stores/relational/pglite/copy-folder.ts).
 * @param {string} dir
 */
function readableByAllWritableByOwner(dir) {
  chmodSync(dir, 0o755);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) readableByAllWritableByOwner(path);
    else chmodSync(path, 0o644);
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
