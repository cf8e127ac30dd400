import { join } from 'node:path';
import type { AnalyticsStore } from './types.ts';
import { createChdbStore } from './chdb/chdb-store.ts';
import { createClickhouseStore } from './clickhouse/clickhouse-store.ts';

export type { AnalyticsStore, AnalyticsParams, InsertOptions } from './types.ts';
export { migrateAnalytics } from './migrate.ts';
export { analyticsMigrations } from './migrations/index.ts';
export { instrumentAnalytics } from './instrumented.ts';

export interface AnalyticsConfig {
  clickhouseUrl?: string | undefined;
  username?: string | undefined;
  password?: string | undefined;
  database?: string | undefined;
  /** chdb keeps its data in `<dataDir>/chdb`. */
  dataDir: string;
}

/** A ClickHouse server when a URL is given, chdb in DATA_DIR otherwise. */
export function openAnalyticsStore(config: AnalyticsConfig): AnalyticsStore {
  if (config.clickhouseUrl) {
    return createClickhouseStore({
      url: config.clickhouseUrl,
      ...(config.username ? { username: config.username } : {}),
      ...(config.password ? { password: config.password } : {}),
      ...(config.database ? { database: config.database } : {}),
    });
  }
  return createChdbStore(join(config.dataDir, 'chdb'));
}
