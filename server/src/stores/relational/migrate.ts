import type { RelationalStore } from './types.ts';
import { migrations as defaultMigrations, type Migration } from './migrations/index.ts';

// Any constant works; it only has to be the same for every instance.
const MIGRATION_LOCK_KEY = 7_310_001;

/**
 * Applies pending migrations in order, each in its own transaction. Instances starting
 * together serialise on an advisory lock, so each migration runs once. Runs at every start: an
 * embedded database unpacked from the build's seed (pglite/seed.ts) already holds the migrations
 * the seed was built with, and gets only those added since.
 */
export async function migrate(
  store: RelationalStore,
  migrations: readonly Migration[] = defaultMigrations,
): Promise<number[]> {
  await store.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
  )`);
  // One read instead of a locked transaction per migration: a start finds all or nearly all of
  // them applied (29 transactions cost PGlite 0.3-0.6 s). A recorded migration stays applied, so
  // skipping it is safe; one not seen here is checked again under the lock below.
  const recorded = await store.query<{ version: number }>('SELECT version FROM schema_migrations');
  const done = new Set(recorded.rows.map((row) => Number(row.version)));
  const applied: number[] = [];
  for (const migration of migrations) {
    if (done.has(migration.version)) continue;
    const ran = await store.transaction(async (tx) => {
      // Transaction-scoped, never pg_advisory_lock: behind PgBouncer in transaction mode the unlock
      // of a session lock can run on another server connection and leave the lock held for good.
      await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
      const done = await tx.query('SELECT 1 FROM schema_migrations WHERE version = $1', [migration.version]);
      if (done.rows.length > 0) return false;
      for (const statement of splitStatements(migration.sql)) await tx.query(statement);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
      return true;
    });
    if (ran) applied.push(migration.version);
  }
  return applied;
}

/** Splits on semicolons at line ends; migrations keep one statement per `;\n` for this reason. */
function splitStatements(sql: string): string[] {
  return sql
    .split(/;\s*\n/)
    .map((statement) => statement.replace(/^\s*--.*$/gm, '').trim())
    .filter((statement) => statement.length > 0);
}
