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
  const store = openAnalyticsStore(analyticsConfig(env));
  const analytics = await migratedAnalytics(instrumentAnalytics(store, { ...deps, slowQueryMs: env.ANALYTICS_SLOW_QUERY_MS }), deps.log);
  const apiCalls = createApiCallRecorder(analytics, {
    flushMs: env.API_CALLS_FLUSH_MS, batchRows: env.API_CALLS_BATCH_ROWS, maxRows: env.API_CALLS_BUFFER_MAX_ROWS, ...deps,
  });
  return { analytics, apiCalls };
}
