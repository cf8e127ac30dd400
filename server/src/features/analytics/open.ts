import type { Env } from '../../platform/config/index.ts';
import type { Logger } from '../../platform/obs/logger.ts';
import type { Metrics } from '../../platform/obs/metrics.ts';
import { instrumentAnalytics, migrateAnalytics, openAnalyticsStore, type AnalyticsConfig, type AnalyticsStore } from '../../stores/analytics/index.ts';
import { createApiCallRecorder, type ApiCallRecorder } from '../billing/index.ts';

/** Where the analytics store is: a ClickHouse server (CLICKHOUSE_*), else chdb in DATA_DIR. */
export const analyticsConfig = (env: Env): AnalyticsConfig => ({
  clickhouseUrl: env.CLICKHOUSE_URL,
  username: env.CLICKHOUSE_USER,
  password: env.CLICKHOUSE_PASSWORD,
  database: env.CLICKHOUSE_DATABASE,
  dataDir: env.DATA_DIR,
});

/** `store` with its migrations applied (logged when there were any); closed when they fail. */
export async function migratedAnalytics(store: AnalyticsStore, log: Logger): Promise<AnalyticsStore> {
  try {
    const applied = await migrateAnalytics(store);
    if (applied.length > 0) log.info({ engine: store.engine, applied }, 'analytics migrations applied');
    return store;
  } catch (error) {
    await store.close();
    throw error;
  }
}

/** Opens the analytics store from config (instrumented), applies its migrations and starts the api_calls recorder. */
export async function openAnalytics(env: Env, deps: { metrics: Metrics; log: Logger }): Promise<{ analytics: AnalyticsStore; apiCalls: ApiCallRecorder }> {
  // Migrated before it is instrumented: embedded chdb starts its process on the first statement
  // (a second or more), and a "slow analytics query" warning for that was the first line a new
  // admin saw from `npm start`. Migrations are one-off DDL, logged as applied; the queries that
  // serve people and drains are the ones timed.
  const store = await migratedAnalytics(openAnalyticsStore(analyticsConfig(env)), deps.log);
  const analytics = instrumentAnalytics(store, { ...deps, slowQueryMs: env.ANALYTICS_SLOW_QUERY_MS });
  const apiCalls = createApiCallRecorder(analytics, {
    flushMs: env.API_CALLS_FLUSH_MS, batchRows: env.API_CALLS_BATCH_ROWS, maxRows: env.API_CALLS_BUFFER_MAX_ROWS, ...deps,
  });
  return { analytics, apiCalls };
}
