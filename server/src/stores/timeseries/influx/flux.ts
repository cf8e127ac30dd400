import { flux, fluxExpression, fluxString } from '@influxdata/influxdb-client';
import { RANGE_WINDOWS, RESOLUTIONS, resolutionFor, type Resolution, type SeriesRange } from '../types.ts';

export const MEASUREMENT = 'device_metrics';

/** The three buckets of the strategy's lifecycle (RESOLUTIONS): raw points, 5-minute means, 1-hour means. */
export function retentionBuckets(rawBucket: string) {
  const keep = (name: Resolution) => RESOLUTIONS.find((resolution) => resolution.name === name)!.keepSec;
  return {
    raw: { name: rawBucket, everySeconds: keep('raw') },
    fiveMinute: { name: `${rawBucket}_5m`, everySeconds: keep('5m') },
    hourly: { name: `${rawBucket}_1h`, everySeconds: keep('1h') },
  } as const;
}

/** Which bucket serves a range: the finest one that still holds its whole span (resolutionFor). */
export function bucketFor(rawBucket: string, range: SeriesRange): string {
  const buckets = retentionBuckets(rawBucket);
  const byResolution = { raw: buckets.raw, '5m': buckets.fiveMinute, '1h': buckets.hourly } as const;
  return byResolution[resolutionFor(RANGE_WINDOWS[range].startSec)].name;
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

/** The fields the hourly rollup reads, and those it also takes the peak of. */
const HOURLY_MEAN_FIELDS = ['cpu', 'memory', 'disk_usage', 'network_rx', 'network_tx'] as const;
const HOURLY_PEAK_FIELDS = ['cpu', 'memory'] as const;

/**
 * Every device's means (`<field>_mean`) and peaks (`<field>_max`) per hour of [from, to), from the
 * raw bucket, stamped with the hour's start, one row per device and hour. Replays need no care:
 * InfluxDB keeps one point per series and timestamp.
 */
export function hourlyQuery(rawBucket: string, from: Date, to: Date): string {
  const fieldFilter = (fields: readonly string[]) => fields.map((field) => `r._field == ${fluxString(field)}`).join(' or ');
  return flux`data = from(bucket: ${rawBucket})
  |> range(start: ${from}, stop: ${to})
  |> filter(fn: (r) => r._measurement == ${MEASUREMENT})
means = data
  |> filter(fn: (r) => ${fluxExpression(fieldFilter(HOURLY_MEAN_FIELDS))})
  |> aggregateWindow(every: 1h, fn: mean, createEmpty: false, timeSrc: "_start")
  |> map(fn: (r) => ({r with _field: r._field + "_mean"}))
peaks = data
  |> filter(fn: (r) => ${fluxExpression(fieldFilter(HOURLY_PEAK_FIELDS))})
  |> aggregateWindow(every: 1h, fn: max, createEmpty: false, timeSrc: "_start")
  |> map(fn: (r) => ({r with _field: r._field + "_max"}))
union(tables: [means, peaks])
  |> group(columns: ["device_id", "organization_id"])
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")`.toString();
}

/** How many series a bucket holds over its whole retention (`influxdb.cardinality`). */
export function cardinalityQuery(bucket: string, retentionSec: number): string {
  return flux`import "influxdata/influxdb"
influxdb.cardinality(bucket: ${bucket}, start: ${fluxDurationLiteral(`-${retentionSec}s`)})`.toString();
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
