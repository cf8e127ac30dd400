import { join, resolve } from 'node:path';
import type { AnalyticsStore } from './types.ts';
import { acquireChdbHost, createChdbStore, releaseChdbHost } from './chdb/chdb-store.ts';
import { relayChdbToWorkers } from './chdb/chdb-relay.ts';
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

/** Where chdb keeps its data: one absolute folder, which the store and the workers' relay must name alike. */
const chdbFolder = (config: AnalyticsConfig) => resolve(join(config.dataDir, 'chdb'));

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
  return createChdbStore(chdbFolder(config));
}

/**
 * For a server running as several workers (WORKERS): the embedded chdb runs in the primary's
 * process tree and the workers' calls are relayed to it (a ClickHouse server needs nothing).
 * Returns what stops the relay and ends chdb.
 */
export function shareEmbeddedAnalytics(config: AnalyticsConfig): () => Promise<void> {
  if (config.clickhouseUrl) return async () => undefined;
  const dir = chdbFolder(config);
  const stopRelay = relayChdbToWorkers(dir, acquireChdbHost(dir));
  return async () => {
    stopRelay();
    await releaseChdbHost(dir);
  };
}
