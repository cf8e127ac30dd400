import type { AnalyticsStore } from '../../analytics/index.ts';
import type { StoreHealth } from '../../types.ts';
import { RANGE_WINDOWS, resolutionFor, type HourlyAggregate, type SeriesPoint, type SeriesRange, type TimeSeriesStore } from '../types.ts';

/** What this store needs of the analytics port. */
export type AnalyticsReader = Pick<AnalyticsStore, 'query' | 'health'>;

interface Row {
  window_end: number | string;
  cpu: number | null;
  memory: number | null;
  disk_used: number | null;
  network_rx: number | null;
  network_tx: number | null;
}

/**
 * The Flux query's equivalent in ClickHouse SQL. Windows are stamped with their end, like
 * aggregateWindow; `LIMIT 1 BY seq` keeps one copy of a replayed sample before the
 * ReplacingMergeTree has merged it away. Raw rows live 7 days (resolutionFor), so longer ranges
 * read the hourly rollup, the only one this engine keeps (90 days; it has no disk bytes: its disk
 * column is a percentage).
 */
export function seriesSql(range: SeriesRange): string {
  const everySec = RANGE_WINDOWS[range].everySec;
  const startSec = RANGE_WINDOWS[range].startSec;
  if (resolutionFor(startSec) !== 'raw') {
    return `SELECT toUnixTimestamp(toStartOfInterval(timestamp, INTERVAL ${everySec} SECOND)) + ${everySec} AS window_end,
  avg(cpu_avg) AS cpu, avg(memory_avg) AS memory, CAST(NULL AS Nullable(Float64)) AS disk_used,
  avg(network_in) AS network_rx, avg(network_out) AS network_tx
FROM device_metrics_hourly
WHERE device_id = {deviceId:UUID} AND timestamp >= now() - INTERVAL ${startSec} SECOND
GROUP BY window_end ORDER BY window_end`;
  }
  return `SELECT toUnixTimestamp(toStartOfInterval(timestamp, INTERVAL ${everySec} SECOND)) + ${everySec} AS window_end,
  avg(cpu) AS cpu, avg(memory) AS memory, avg(disk_used) AS disk_used, avg(network_in) AS network_rx, avg(network_out) AS network_tx
FROM (
  SELECT timestamp, cpu, memory, disk_used, network_in, network_out FROM device_metrics_raw
  WHERE device_id = {deviceId:UUID} AND organization_id = {organizationId:UUID}
    AND timestamp >= now64(3) - INTERVAL ${startSec} SECOND
  LIMIT 1 BY seq
)
GROUP BY window_end ORDER BY window_end`;
}

/**
 * The hourly rollup's read: each device's figures per hour of [from, to). A replayed sample
 * counts once (one row per device and seq before the ReplacingMergeTree has merged).
 */
export const HOURLY_SQL = `SELECT device_id, any(organization_id) AS organization_id, toUnixTimestamp(hour) AS hour,
  avg(cpu) AS cpu_avg, max(cpu) AS cpu_max, avg(memory) AS memory_avg, max(memory) AS memory_max, avg(disk_usage) AS disk_usage,
  avg(network_in) AS network_in, avg(network_out) AS network_out
FROM (
  SELECT device_id, seq, any(organization_id) AS organization_id, toStartOfHour(any(timestamp)) AS hour, any(cpu) AS cpu,
    any(memory) AS memory, any(disk_usage) AS disk_usage, any(network_in) AS network_in, any(network_out) AS network_out
  FROM device_metrics_raw
  WHERE timestamp >= {from:DateTime} AND timestamp < {to:DateTime}
  GROUP BY device_id, seq
)
GROUP BY device_id, hour ORDER BY hour, device_id`;

interface HourlyRow {
  device_id: string; organization_id: string; hour: number | string;
  cpu_avg: number; cpu_max: number; memory_avg: number; memory_max: number; disk_usage: number; network_in: number; network_out: number;
}

const num = (value: unknown) => (value === null || value === undefined ? null : Number(value));

/**
 * The embedded time-series store: the analytics engine's `device_metrics_raw` table. The
 * analytics drainer writes that table, so `write` here has nothing to do.
 */
export function createEmbeddedTimeSeriesStore(analytics: AnalyticsReader): TimeSeriesStore {
  return {
    engine: 'embedded',
    async write() {},
    async querySeries(deviceId, organizationId, range) {
      const rows = await analytics.query<Row>(seriesSql(range), { deviceId, organizationId });
      return rows.map((row): SeriesPoint => ({
        timestamp: new Date(Number(row.window_end) * 1000),
        cpu: num(row.cpu), memory: num(row.memory), diskUsed: num(row.disk_used), networkRx: num(row.network_rx), networkTx: num(row.network_tx),
      }));
    },
    async hourlyAggregates(from, to) {
      const rows = await analytics.query<HourlyRow>(HOURLY_SQL, { from, to });
      return rows.map((row): HourlyAggregate => ({
        deviceId: row.device_id, organizationId: row.organization_id, hour: new Date(Number(row.hour) * 1000),
        cpuAvg: Number(row.cpu_avg), cpuMax: Number(row.cpu_max), memoryAvg: Number(row.memory_avg), memoryMax: Number(row.memory_max),
        diskUsage: Number(row.disk_usage), networkIn: Number(row.network_in), networkOut: Number(row.network_out),
      }));
    },
    async health(): Promise<StoreHealth> {
      const health = await analytics.health();
      return { ...health, engine: `raw-table-on-${health.engine}` };
    },
    // The analytics store belongs to the app, which closes it.
    async close() {},
  };
}
