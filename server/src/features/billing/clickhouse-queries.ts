import type { AnalyticsStore } from '../../stores/analytics/index.ts';
import { isoDate } from '../../stores/analytics/time.ts';

/**
 * Every ClickHouse statement of billing, one typed function each, so a renamed column touches
 * this file alone: what a day's bill reads (device peaks, calls, stored bytes), the days already
 * billed, and the delete that lets a rerun replace a day. Rows are written through the store's
 * `insert`, which takes no SQL; the month's invoice is one of analytics' queries.
 */

/** Each organization's highest hourly device count between `from` and `to`, from the ETL's facts. */
export async function peakDeviceCounts(analytics: AnalyticsStore, from: Date, to: Date): Promise<{ organizationId: string; peak: number }[]> {
  const peaks = await analytics.query<{ organization_id: string; peak: string }>(
    `SELECT organization_id, max(device_count) AS peak FROM device_count_facts FINAL
     WHERE hour >= {from:DateTime} AND hour < {to:DateTime} GROUP BY organization_id`, { from, to });
  return peaks.map((row) => ({ organizationId: row.organization_id, peak: Number(row.peak) }));
}

/** Each organization's API calls between `from` and `to` from these sources (the billable ones). */
export async function callCounts(analytics: AnalyticsStore, from: Date, to: Date, sources: readonly string[]): Promise<{ organizationId: string; calls: number }[]> {
  const calls = await analytics.query<{ organization_id: string; calls: string }>(
    `SELECT organization_id, count() AS calls FROM api_calls
     WHERE timestamp >= {from:DateTime} AND timestamp < {to:DateTime} AND source IN {sources:Array(String)}
     GROUP BY organization_id`, { from, to, sources: [...sources] });
  return calls.map((row) => ({ organizationId: row.organization_id, calls: Number(row.calls) }));
}

/** Each organization's GB of samples collected on the day of `dayMs`, as counted at ingest (migration 006). */
export async function storedGbOfDay(analytics: AnalyticsStore, dayMs: number): Promise<{ organizationId: string; gb: number }[]> {
  const storage = await analytics.query<{ organization_id: string; gb: number }>(
    `SELECT organization_id, sum(bytes) / 1e9 AS gb FROM metric_usage_daily
     WHERE day = {day:Date} GROUP BY organization_id`, { day: isoDate(dayMs) });
  return storage.map((row) => ({ organizationId: row.organization_id, gb: Number(row.gb) }));
}

/** The days (`YYYY-MM-DD`) billed from `fromMs` on. */
export async function billedDaysSince(analytics: AnalyticsStore, fromMs: number): Promise<string[]> {
  const rows = await analytics.query<{ d: string }>(
    'SELECT toString(event_date) AS d FROM billing_state WHERE event_date >= {from:Date}', { from: isoDate(fromMs) },
  );
  return rows.map((row) => row.d);
}

/** Deletes a day's bills: SummingMergeTree would add a second run to the first. */
export async function deleteBillingDay(analytics: AnalyticsStore, eventDate: string): Promise<void> {
  await analytics.exec('DELETE FROM billing_events WHERE event_date = {eventDate:Date}', { eventDate });
}
