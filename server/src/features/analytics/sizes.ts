import type { AnalyticsStore } from '../../stores/analytics/index.ts';
import type { Metrics } from '../../platform/obs/metrics.ts';

/** Samples active parts and bytes per table into /metrics. */
export async function sampleAnalyticsSizes(analytics: AnalyticsStore, metrics: Metrics): Promise<void> {
  const rows = await analytics.query<{ table: string; parts: string; bytes: string }>(
    `SELECT table, count() AS parts, sum(bytes_on_disk) AS bytes FROM system.parts
     WHERE active AND database = currentDatabase() GROUP BY table`,
  );
  let total = 0;
  for (const row of rows) {
    metrics.analyticsTableParts.set({ table: row.table }, Number(row.parts));
    metrics.analyticsTableBytes.set({ table: row.table }, Number(row.bytes));
    total += Number(row.bytes);
  }
  metrics.storeSizeBytes.set({ store: 'analytics' }, total);
}
