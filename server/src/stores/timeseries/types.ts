import type { StoreHealth } from '../types.ts';

/** One sample as the time-series store keeps it: measurement `device_metrics`. */
export interface MetricPoint {
  deviceId: string;
  organizationId: string;
  /** The agent's collection time; with the series it is the point's identity (a replay overwrites). */
  timestamp: Date;
  /** Load, percent. */
  cpu: number;
  /** Memory in use, percent of total. */
  memory: number;
  /** Bytes used over all filesystems. */
  diskUsed: number;
  /** Bytes per second over all interfaces. */
  networkRx: number;
  networkTx: number;
  /** The busiest file system's share in use, percent (what the hourly rollup keeps). */
  diskPercent: number;
}

export const SERIES_RANGES = ['1h', '24h', '30d', '1y'] as const;
export type SeriesRange = (typeof SERIES_RANGES)[number];

const DAY_SEC = 24 * 60 * 60;

/** How far back each range reads and the window its means are taken over. */
export const RANGE_WINDOWS = {
  '1h': { startSec: 60 * 60, everySec: 5 * 60, flux: { start: '-1h', every: '5m' } },
  '24h': { startSec: DAY_SEC, everySec: 60 * 60, flux: { start: '-24h', every: '1h' } },
  '30d': { startSec: 30 * DAY_SEC, everySec: DAY_SEC, flux: { start: '-30d', every: '1d' } },
  '1y': { startSec: 365 * DAY_SEC, everySec: 7 * DAY_SEC, flux: { start: '-365d', every: '7d' } },
} as const satisfies Record<SeriesRange, unknown>;

/** The strategy's lifecycle: full resolution for 7 days, 5-minute means for 90, 1-hour means for 2 years. */
export const RESOLUTIONS = [
  { name: 'raw', keepSec: 7 * DAY_SEC },
  { name: '5m', keepSec: 90 * DAY_SEC },
  { name: '1h', keepSec: 730 * DAY_SEC },
] as const;
export type Resolution = (typeof RESOLUTIONS)[number]['name'];

/**
 * The finest resolution still kept for the whole span: up to 7 days raw, up to 90 days the
 * 5-minute means, beyond that the hourly ones. Reading raw points for a month would scan
 * millions of rows to draw thirty; reading hourly means for an hour would draw nothing.
 */
export function resolutionFor(spanSec: number): Resolution {
  return (RESOLUTIONS.find((resolution) => spanSec <= resolution.keepSec) ?? RESOLUTIONS[RESOLUTIONS.length - 1]!).name;
}

/** The mean of each field over one window, stamped with the window's end (as Flux's aggregateWindow does). */
export interface SeriesPoint {
  timestamp: Date;
  cpu: number | null;
  memory: number | null;
  diskUsed: number | null;
  networkRx: number | null;
  networkTx: number | null;
}

/**
 * One device's figures over one hour, as the hourly ClickHouse rollup (`device_metrics_hourly`)
 * keeps them: means and peaks of CPU and memory (percent), the mean disk use (percent) and the
 * mean network rates (bytes per second). A replayed sample counts once.
 */
export interface HourlyAggregate {
  deviceId: string;
  organizationId: string;
  /** The hour's start. */
  hour: Date;
  cpuAvg: number;
  cpuMax: number;
  memoryAvg: number;
  memoryMax: number;
  diskUsage: number;
  networkIn: number;
  networkOut: number;
}

/**
 * The time-series port: InfluxDB 2 when configured, the raw table in the analytics engine otherwise.
 */
export interface TimeSeriesStore {
  readonly engine: 'influxdb' | 'embedded';
  /** Idempotent: series + timestamp identify a point. The embedded store is written by the analytics drainer. */
  write(points: readonly MetricPoint[]): Promise<void>;
  /** Window means for one device of one organization, oldest first; empty windows are left out. */
  querySeries(deviceId: string, organizationId: string, range: SeriesRange): Promise<SeriesPoint[]>;
  /**
   * Every device's aggregates for each hour starting in [from, to) (both on hour boundaries) that
   * has samples, over all organizations: what the hourly rollup reads. Hours without samples are
   * left out.
   */
  hourlyAggregates(from: Date, to: Date): Promise<HourlyAggregate[]>;
  /** What the engine says of its size, where it can: InfluxDB's series per bucket. */
  size?(): Promise<{ series: Record<string, number> }>;
  health(): Promise<StoreHealth>;
  close(): Promise<void>;
}
