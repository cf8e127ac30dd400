import type { AnalyticsStore } from './types.ts';
import { analyticsMigrations, type AnalyticsMigration } from './migrations/index.ts';

/**
 * Applies pending ClickHouse migrations in order and records them in `schema_migrations`.
 * ClickHouse has no transactions or advisory locks: every statement is `IF NOT EXISTS`,
 * so instances starting together may both run one, harmlessly.
 */
export async function migrateAnalytics(
  store: AnalyticsStore,
  migrations: readonly AnalyticsMigration[] = analyticsMigrations,
): Promise<number[]> {
  await store.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version UInt32,
    name String,
    applied_at DateTime DEFAULT now()
  ) ENGINE = ReplacingMergeTree() ORDER BY version`);
  const done = new Set((await store.query<{ version: number }>('SELECT version FROM schema_migrations')).map((row) => Number(row.version)));
  const applied: number[] = [];
  for (const migration of migrations) {
    if (done.has(migration.version)) continue;
    for (const statement of migration.statements) await store.exec(statement);
    await store.insert('schema_migrations', [{ version: migration.version, name: migration.name }]);
    applied.push(migration.version);
  }
  return applied;
}
