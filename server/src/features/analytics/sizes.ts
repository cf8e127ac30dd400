import type { AnalyticsStore } from '../../stores/analytics/index.ts';
import type { Metrics } from '../../platform/obs/metrics.ts';
import { tableSizes } from './clickhouse-queries.ts';

/** Samples active parts and bytes per table into /metrics. */
export async function sampleAnalyticsSizes(analytics: AnalyticsStore, metrics: Metrics): Promise<void> {
  let total = 0;
  for (const row of await tableSizes(analytics)) {
    metrics.analyticsTableParts.set({ table: row.table }, row.parts);
    metrics.analyticsTableBytes.set({ table: row.table }, row.bytes);
    total += row.bytes;
  }
  metrics.storeSizeBytes.set({ store: 'analytics' }, total);
}
