import type { AnalyticsStore } from '../../stores/analytics/index.ts';
import { HOUR_MS, startOfHourMs, unixSec } from '../../stores/analytics/time.ts';
import type { HourlyAggregate, TimeSeriesStore } from '../../stores/timeseries/index.ts';
import { deleteHourlyMetrics, rollupMarksSince } from './clickhouse-queries.ts';

/** Hours further back than this are past the raw data's retention (7 days in both engines): nothing left to roll up. */
export const ROLLUP_BACKFILL_HOURS = 7 * 24;
/** Hours read from the time-series store in one query: a day, so a first run or a long outage is a few reads. */
const HOURS_PER_READ = 24;

/** What the rollup needs of the time-series port: InfluxDB when configured, the raw table in the analytics engine otherwise. */
export type HourlySource = Pick<TimeSeriesStore, 'hourlyAggregates'>;

export interface PendingHour {
  hour: number;
  /** Rolled up before and marked dirty by late samples since: its old rows go even if nothing is read now. */
  dirty: boolean;
}

/**
 * Finished hours of the backfill window that are not rolled up yet, or were marked dirty by
 * late samples, oldest first. Hours without samples are rolled up too (to nothing), so the
 * window to read shrinks to the hours since the last run.
 */
export async function pendingHours(analytics: AnalyticsStore, nowMs = Date.now()): Promise<PendingHour[]> {
  const to = startOfHourMs(nowMs);
  const from = to - ROLLUP_BACKFILL_HOURS * HOUR_MS;
  const status = new Map((await rollupMarksSince(analytics, from)).map((mark) => [mark.hourMs, mark.status]));
  const pending: PendingHour[] = [];
  for (let hour = from; hour < to; hour += HOUR_MS) {
    const seen = status.get(hour);
    if (seen !== 'done') pending.push({ hour, dirty: seen === 'dirty' });
  }
  return pending;
}

/** Runs of consecutive hours, at most HOURS_PER_READ long: one read each. */
function readRuns(hours: readonly PendingHour[]): PendingHour[][] {
  const runs: PendingHour[][] = [];
  for (const hour of hours) {
    const run = runs.at(-1);
    const last = run?.at(-1);
    if (run && last && hour.hour === last.hour + HOUR_MS && run.length < HOURS_PER_READ) run.push(hour);
    else runs.push([hour]);
  }
  return runs;
}

const hourlyRow = (row: HourlyAggregate) => ({
  device_id: row.deviceId,
  timestamp: unixSec(row.hour.getTime()),
  cpu_avg: row.cpuAvg,
  cpu_max: row.cpuMax,
  memory_avg: row.memoryAvg,
  memory_max: row.memoryMax,
  disk_usage: row.diskUsage,
  network_in: Math.max(0, Math.round(row.networkIn)),
  network_out: Math.max(0, Math.round(row.networkOut)),
});

/**
 * Rolls up a run of consecutive hours from the time-series store into `device_metrics_hourly`:
 * per hour, deletes its rows and inserts one per device, so a rerun replaces the hour. The 'done'
 * marks carry the time the read started, so samples marked dirty meanwhile win and the hour is
 * redone. Returns the hours that had samples.
 */
export async function rollupHours(analytics: AnalyticsStore, source: HourlySource, run: readonly PendingHour[]): Promise<number[]> {
  const first = run[0];
  const last = run.at(-1);
  if (!first || !last) return [];
  const version = Date.now();
  const rows = await source.hourlyAggregates(new Date(first.hour), new Date(last.hour + HOUR_MS));
  const byHour = new Map<number, HourlyAggregate[]>();
  for (const row of rows) {
    const hour = row.hour.getTime();
    byHour.set(hour, [...byHour.get(hour) ?? [], row]);
  }
  const written: number[] = [];
  for (const { hour, dirty } of run) {
    const hourRows = byHour.get(hour) ?? [];
    // An hour never rolled up and without samples has nothing to replace.
    if (hourRows.length > 0 || dirty) {
      await deleteHourlyMetrics(analytics, hour);
    }
    if (hourRows.length > 0) {
      await analytics.insert('device_metrics_hourly', hourRows.map(hourlyRow));
      written.push(hour);
    }
  }
  await analytics.insert('rollup_state', run.map(({ hour }) => ({ hour: unixSec(hour), status: 'done', version })));
  return written;
}

/**
 * Rolls up every pending finished hour, oldest first (backfills after downtime), reading the
 * time-series store. Returns the hours that had samples. A read that fails marks nothing done.
 */
export async function runHourlyRollup(analytics: AnalyticsStore, source: HourlySource, nowMs = Date.now()): Promise<number[]> {
  const written: number[] = [];
  for (const run of readRuns(await pendingHours(analytics, nowMs))) written.push(...await rollupHours(analytics, source, run));
  return written;
}
