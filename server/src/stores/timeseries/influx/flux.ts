import { flux, fluxExpression, fluxString } from '@influxdata/influxdb-client';
import { RANGE_WINDOWS, type SeriesRange } from '../types.ts';

export const MEASUREMENT = 'device_metrics';
const DAY_SEC = 24 * 60 * 60;

/** The strategy's lifecycle: full resolution 7 days, 5-minute means 90 days, 1-hour means 2 years. */
export function retentionBuckets(rawBucket: string) {
  return {
    raw: { name: rawBucket, everySeconds: 7 * DAY_SEC },
    fiveMinute: { name: `${rawBucket}_5m`, everySeconds: 90 * DAY_SEC },
    hourly: { name: `${rawBucket}_1h`, everySeconds: 730 * DAY_SEC },
  } as const;
}

/** Which bucket serves a range: raw data covers 7 days, the 30-day view reads the hourly means. */
export function bucketFor(rawBucket: string, range: SeriesRange): string {
  const buckets = retentionBuckets(rawBucket);
  return range === '30d' ? buckets.hourly.name : buckets.raw.name;
}

/**
 * The strategy's dashboard query (range, measurement, device, `aggregateWindow(fn: mean)`),
 * also scoped to the organization, pivoted so each row carries every field of one window.
 * Values are escaped by the client's `flux` template.
 */
export function seriesQuery(rawBucket: string, deviceId: string, organizationId: string, range: SeriesRange): string {
  const window = RANGE_WINDOWS[range].flux;
  return flux`from(bucket: ${bucketFor(rawBucket, range)})
  |> range(start: ${fluxDurationLiteral(window.start)})
  |> filter(fn: (r) => r._measurement == ${MEASUREMENT})
  |> filter(fn: (r) => r.device_id == ${deviceId})
  |> filter(fn: (r) => r.organization_id == ${organizationId})
  |> aggregateWindow(every: ${fluxDurationLiteral(window.every)}, fn: mean)
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")`.toString();
}

/** Durations come from our constants only; the client's template would quote a plain string. */
function fluxDurationLiteral(duration: string) {
  if (!/^-?\d+[smhd]$/.test(duration)) throw new Error(`Not a Flux duration: ${duration}`);
  return fluxExpression(duration);
}

export interface DownsampleTask {
  name: string;
  flux: string;
}

/**
 * InfluxDB tasks that keep the rollup buckets filled. Each run re-aggregates a few hours back:
 * agents replay buffered samples after an outage, and rewriting a window's mean is idempotent
 * (same series, same timestamp).
 */
export function downsampleTasks(rawBucket: string, org: string): DownsampleTask[] {
  const buckets = retentionBuckets(rawBucket);
  const task = (name: string, every: string, lookback: string, window: string, target: string) => ({
    name,
    flux: `option task = {name: ${fluxString(name)}, every: ${every}, offset: 30s}

from(bucket: ${fluxString(buckets.raw.name)})
  |> range(start: -${lookback})
  |> filter(fn: (r) => r._measurement == ${fluxString(MEASUREMENT)})
  |> aggregateWindow(every: ${window}, fn: mean, createEmpty: false)
  |> to(bucket: ${fluxString(target)}, org: ${fluxString(org)})
`,
  });
  return [
    task('ninjait-device-metrics-5m', '5m', '2h', '5m', buckets.fiveMinute.name),
    task('ninjait-device-metrics-1h', '1h', '6h', '1h', buckets.hourly.name),
  ];
}
