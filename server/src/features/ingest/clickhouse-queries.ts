import type { AnalyticsStore } from '../../stores/analytics/index.ts';

/**
 * Every ClickHouse statement of ingest, one typed function each (rows are written through the
 * store's `insert`, which takes no SQL): what the ClickHouse sink reads back to count stored
 * bytes once per device, day and sequence.
 */

/** The highest sequence already counted in `metric_usage_daily` for each of these devices on each of these days. */
export async function countedSequences(analytics: AnalyticsStore, deviceIds: readonly string[], days: readonly string[]): Promise<{ deviceId: string; day: string; seq: number }[]> {
  // Not `AS day`: ClickHouse would read the alias (a String) in WHERE instead of the column.
  const rows = await analytics.query<{ device_id: string; on_day: string; seq: string | number }>(
    `SELECT device_id, toString(day) AS on_day, max(max_seq) AS seq FROM metric_usage_daily
     WHERE device_id IN {ids:Array(UUID)} AND day IN {days:Array(Date)} GROUP BY device_id, day`, { ids: [...deviceIds], days: [...days] });
  return rows.map((row) => ({ deviceId: row.device_id, day: row.on_day, seq: Number(row.seq) }));
}
