import type { AnalyticsStore } from '../../stores/analytics/index.ts';
import { HOUR_MS, startOfHourMs } from '../../stores/analytics/time.ts';

/** Hours further back than this are past the raw table's TTL: nothing left to roll up. */
export const ROLLUP_BACKFILL_HOURS = 7 * 24;

const toMs = (value: string | number) => Number(value) * 1000;

/** Finished hours that have raw samples and are not rolled up yet, or were marked dirty by late samples. */
export async function pendingHours(analytics: AnalyticsStore, nowMs = Date.now()): Promise<number[]> {
  const to = new Date(startOfHourMs(nowMs));
  const from = new Date(to.getTime() - ROLLUP_BACKFILL_HOURS * HOUR_MS);
  const withData = await analytics.query<{ hour: string }>(
    `SELECT DISTINCT toUnixTimestamp(toStartOfHour(timestamp)) AS hour FROM device_metrics_raw
     WHERE timestamp >= {from:DateTime} AND timestamp < {to:DateTime}`,
    { from, to },
  );
  const state = await analytics.query<{ hour: string; status: string }>(
    `SELECT toUnixTimestamp(hour) AS hour, argMax(status, version) AS status FROM rollup_state
     WHERE hour >= {from:DateTime} GROUP BY hour`,
    { from },
  );
  const done = new Set(state.filter((row) => row.status === 'done').map((row) => toMs(row.hour)));
  return withData.map((row) => toMs(row.hour)).filter((hour) => !done.has(hour)).sort((a, b) => a - b);
}

/**
 * Aggregates one hour of raw samples into `device_metrics_hourly`: deletes the hour's rows, then
 * inserts one row per device, so a repeat leaves exactly one row per device and hour. Replayed
 * samples count once (grouped by device and seq). The 'done' mark carries the time the
 * read started, so late samples marked dirty meanwhile win and the hour is redone.
 */
export async function rollupHour(analytics: AnalyticsStore, hourMs: number): Promise<void> {
  const version = Date.now();
  const hour = new Date(hourMs);
  const end = new Date(hourMs + HOUR_MS);
  await analytics.exec('DELETE FROM device_metrics_hourly WHERE timestamp = {hour:DateTime}', { hour });
  await analytics.exec(
    `INSERT INTO device_metrics_hourly
       (device_id, timestamp, cpu_avg, cpu_max, memory_avg, memory_max, disk_usage, network_in, network_out)
     SELECT device_id, toDateTime({hour:DateTime}), avg(cpu), max(cpu), avg(memory), max(memory), avg(disk_usage),
       toUInt64(round(avg(network_in))), toUInt64(round(avg(network_out)))
     FROM (
       SELECT device_id, seq, any(cpu) AS cpu, any(memory) AS memory, any(disk_usage) AS disk_usage,
         any(network_in) AS network_in, any(network_out) AS network_out
       FROM device_metrics_raw
       WHERE timestamp >= {hour:DateTime} AND timestamp < {end:DateTime}
       GROUP BY device_id, seq
     )
     GROUP BY device_id`,
    { hour, end },
  );
  await analytics.insert('rollup_state', [{ hour: Math.floor(hourMs / 1000), status: 'done', version }]);
}

/** Rolls up every pending finished hour, oldest first (backfills after downtime). Returns the hours done. */
export async function runHourlyRollup(analytics: AnalyticsStore, nowMs = Date.now()): Promise<number[]> {
  const hours = await pendingHours(analytics, nowMs);
  for (const hour of hours) await rollupHour(analytics, hour);
  return hours;
}
