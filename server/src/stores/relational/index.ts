import type { RelationalStore } from './types.ts';
import { createPgliteStore } from './pglite/pglite-store.ts';

export type { RelationalStore, SqlExecutor, QueryResult } from './types.ts';
export { migrate } from './migrate.ts';

/**
 * PostgreSQL when a URL is given, PGlite under `dataDir` otherwise. The driver of the engine not
 * chosen is never loaded: `pg` is 40 files an embedded start would parse for nothing.
 */
export async function openRelationalStore(options: { databaseUrl?: string | undefined; dataDir?: string | undefined }): Promise<RelationalStore> {
  if (options.databaseUrl) {
    const { createPgStore } = await import('./pg/pg-store.ts');
    return createPgStore({ connectionString: options.databaseUrl });
  }
  return createPgliteStore(options.dataDir);
}
export { createJobLeases } from './job-leases.ts';
export { relationalSizeBytes } from './size.ts';
export { compileNamed, compileOnce, typed, type Db, type NamedQuery } from './kysely.ts';
export type { Database } from './schema.ts';
export { instrumentRelationalStore, sqlOperation } from './instrumented.ts';
export { anyUuid, anyText, anyBigint, uuidArray, textArray } from './sql-arrays.ts';
export { msFromNow, secondsAgo } from './sql-time.ts';
