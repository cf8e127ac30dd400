import type { Env } from '../platform/config/index.ts';
import type { Logger } from '../platform/obs/logger.ts';
import type { Metrics } from '../platform/obs/metrics.ts';
import type { Job } from '../platform/scheduler/scheduler.ts';
import type { CacheStore } from '../stores/cache/index.ts';
import type { DocumentStore } from '../stores/documents/index.ts';
import { relationalSizeBytes, type RelationalStore } from '../stores/relational/index.ts';
import { vacuumEmbedded } from '../stores/relational/embedded-vacuum.ts';
import type { TimeSeriesStore } from '../stores/timeseries/index.ts';

const EMBEDDED_VACUUM_MS = 60_000;

export interface StoreJobDeps {
  env: Env;
  db: RelationalStore;
  cache: CacheStore;
  timeseries: TimeSeriesStore;
  documents: DocumentStore;
  metrics: Metrics;
  log: Pick<Logger, 'debug' | 'warn'>;
}

/**
 * The sizes of every store that can say, into gauges: `ninjait_store_size_bytes` (relational,
 * documents, cache: Redis' used_memory), the cache's dataset bytes and keys, and InfluxDB's
 * series per bucket. Each is sampled on its own: an engine that cannot answer (a line-protocol
 * peer has no Flux) leaves its gauges as they were and the others still move.
 */
export async function sampleStoreSizes(deps: Omit<StoreJobDeps, 'env'>): Promise<void> {
  const { db, cache, timeseries, documents, metrics, log } = deps;
  const samples: Record<string, () => Promise<void>> = {
    relational: async () => void metrics.storeSizeBytes.set({ store: 'relational' }, await relationalSizeBytes(db)),
    documents: async () => void metrics.storeSizeBytes.set({ store: 'documents' }, await documents.sizeBytes()),
    cache: async () => {
      const size = await cache.size?.();
      if (!size) return;
      metrics.storeSizeBytes.set({ store: 'cache' }, size.usedBytes);
      if (size.datasetBytes !== null) metrics.cacheDatasetBytes.set(size.datasetBytes);
      metrics.cacheKeys.set(size.keys);
    },
    timeseries: async () => {
      const size = await timeseries.size?.();
      for (const [bucket, series] of Object.entries(size?.series ?? {})) metrics.timeseriesSeries.set({ bucket }, series);
    },
  };
  await Promise.all(Object.entries(samples).map(([store, sample]) => sample().catch((error: unknown) => {
    // A line-protocol peer standing in for InfluxDB never answers Flux: not worth a warning a minute.
    if (store === 'timeseries') log.debug({ err: error, store }, 'store size not sampled');
    else log.warn({ err: error, store }, 'store size not sampled');
  })));
}

/**
 * Upkeep of the engines themselves, which belongs to no feature: their sizes (sampled at start
 * too), and PGlite's vacuum (it has no autovacuum).
 */
export function storeJobs(deps: StoreJobDeps): Job[] {
  const jobs: Job[] = [{
    name: 'store-sizes',
    everyMs: deps.env.STORE_SIZE_SAMPLE_MS,
    atStart: true,
    run: () => sampleStoreSizes(deps),
  }];
  if (deps.db.engine === 'pglite') jobs.push({ name: 'embedded-vacuum', everyMs: EMBEDDED_VACUUM_MS, run: () => vacuumEmbedded(deps.db) });
  return jobs;
}
