import type { Env } from '../../platform/config/index.ts';
import type { Logger } from '../../platform/obs/logger.ts';
import type { Metrics } from '../../platform/obs/metrics.ts';
import { instrumentAnalytics, migrateAnalytics, openAnalyticsStore, type AnalyticsStore } from '../../stores/analytics/index.ts';
import { createApiCallRecorder, type ApiCallRecorder } from '../billing/index.ts';

/** Opens the analytics store from config (instrumented), applies its migrations and starts the api_calls recorder. */
export async function openAnalytics(env: Env, deps: { metrics: Metrics; log: Logger }): Promise<{ analytics: AnalyticsStore; apiCalls: ApiCallRecorder }> {
  const store = openAnalyticsStore({
    clickhouseUrl: env.CLICKHOUSE_URL,
    username: env.CLICKHOUSE_USER,
    password: env.CLICKHOUSE_PASSWORD,
    database: env.CLICKHOUSE_DATABASE,
    dataDir: env.DATA_DIR,
  });
  const analytics = instrumentAnalytics(store, { ...deps, slowQueryMs: env.ANALYTICS_SLOW_QUERY_MS });
  try {
    const applied = await migrateAnalytics(analytics);
    if (applied.length > 0) deps.log.info({ engine: analytics.engine, applied }, 'analytics migrations applied');
  } catch (error) {
    await analytics.close();
    throw error;
  }
  const apiCalls = createApiCallRecorder(analytics, {
    flushMs: env.API_CALLS_FLUSH_MS, batchRows: env.API_CALLS_BATCH_ROWS, maxRows: env.API_CALLS_BUFFER_MAX_ROWS, ...deps,
  });
  return { analytics, apiCalls };
}
