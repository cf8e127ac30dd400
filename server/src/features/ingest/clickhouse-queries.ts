import type { AnalyticsStore } from '../../stores/analytics/index.ts';

/**
 * Every ClickHouse statement of ingest, one typed function each (rows are written through the
 * store's `insert`, which takes no SQL): what the ClickHouse sink reads back to count stored
 * bytes once per device, day and sequence.
 */

/** What `metric_usage_daily` counted for each of these devices on each of these days: the highest sequence, and which of `seqs` it holds. */
export async function countedSequences(
  analytics: AnalyticsStore, deviceIds: readonly string[], days: readonly string[], seqs: readonly number[] = [],
): Promise<{ deviceId: string; day: string; seq: number; present: number[] }[]> {
  // Not `AS day`: ClickHouse would read the alias (a String) in WHERE instead of the column.
  const rows = await analytics.query<{ device_id: string; on_day: string; seq: string | number; present: (string | number)[] }>(
    `SELECT device_id, toString(day) AS on_day, max(max_seq) AS seq, arrayIntersect(groupUniqArrayArray(seqs), {seqs:Array(UInt64)}) AS present
     FROM metric_usage_daily
     WHERE device_id IN {ids:Array(UUID)} AND day IN {days:Array(Date)} GROUP BY device_id, day`, { ids: [...deviceIds], days: [...days], seqs: [...seqs] });
  return rows.map((row) => ({ deviceId: row.device_id, day: row.on_day, seq: Number(row.seq), present: row.present.map(Number) }));
}
