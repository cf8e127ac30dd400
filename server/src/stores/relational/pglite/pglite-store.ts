import { chmod, mkdir } from 'node:fs/promises';
import { PGlite, types } from '@electric-sql/pglite';
import { OwnerOnlyNodeFS } from './owner-only-fs.ts';
import { emptyFolder, isEmptyFolder, pgliteSeedDir, readPgliteSeed, seedPgliteFolder } from './seed.ts';
import { probeHealth } from '../../types.ts';
import type { QueryResult, RelationalStore, SqlExecutor } from '../types.ts';

/**
 * PostgreSQL's default of 128 MB of shared buffers is WASM memory PGlite touches and never gives
 * back: most of its share of an idle `npm start`. Pages it evicts stay in the operating system's
 * file cache under DATA_DIR, so a smaller pool costs a read call, not a disk read
 * (bench: footprint and ingest, embedded).
 */
const EMBEDDED_SHARED_BUFFERS_MB = 32;

// Same int8 handling as the pg adapter so both return the same shapes.
const parsers = { [types.INT8]: (value: string) => Number(value) };

function executor(db: Pick<PGlite, 'query'>): SqlExecutor {
  return {
    async query<Row>(sql: string, params?: readonly unknown[]): Promise<QueryResult<Row>> {
      const result = await db.query<Row>(sql, params as unknown[] | undefined, { parsers });
      // PGlite reports affectedRows = 0 for SELECT; count returned rows there, as pg does.
      return { rows: result.rows, rowCount: result.rows.length > 0 ? result.rows.length : (result.affectedRows ?? 0) };
    },
  };
}

/**
 * PostgreSQL compiled to WASM, in-process, persisted under `dataDir` (or in memory when undefined).
 * A new database starts from the build's seed in `seedDir` (seed.ts).
 */
export async function createPgliteStore(dataDir: string | undefined, seedDir = pgliteSeedDir()): Promise<RelationalStore> {
  if (dataDir) {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    await chmod(dataDir, 0o700);
  }
  const open = (tarball: Blob | null) => PGlite.create({
    ...(dataDir ? { fs: new OwnerOnlyNodeFS(dataDir) } : { dataDir: 'memory://' }),
    ...(tarball ? { loadDataDir: tarball } : {}),
    parsers,
    startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${EMBEDDED_SHARED_BUFFERS_MB}MB`],
  });
  // Only an empty folder is seeded: an existing cluster, whole or not, is never touched.
  const seeded = dataDir ? await isEmptyFolder(dataDir) && await seedPgliteFolder(dataDir, seedDir) : false;
  const tarball = dataDir ? null : await readPgliteSeed(seedDir);
  let db: PGlite;
  try {
    db = await open(tarball);
  } catch (error) {
    // A seed this PGlite cannot use (an upgrade without a rebuild): initialize the cluster instead.
    if (!seeded && !tarball) throw error;
    if (dataDir) await emptyFolder(dataDir);
    db = await open(null);
  }
  const base = executor(db);

  return {
    engine: 'pglite',
    query: base.query,
    async exec(sql) {
      await db.exec(sql);
    },
    transaction(fn) {
      return db.transaction((tx) => fn(executor(tx)));
    },
    health: () => probeHealth('pglite', () => db.query('SELECT 1')),
    async close() {
      await db.close();
    },
  };
}
