import { HttpError, InfluxDB, Point, setLogger } from '@influxdata/influxdb-client';
import type { Logger } from '../../../platform/obs/logger.ts';
import { probeHealth } from '../../types.ts';
import type { HourlyAggregate, MetricPoint, SeriesPoint, TimeSeriesStore } from '../types.ts';
import { MEASUREMENT, cardinalityQuery, hourlyQuery, retentionBuckets, seriesQuery } from './flux.ts';
import { ensureRetention, type RetentionReport } from './retention.ts';

export interface InfluxOptions {
  url: string;
  token: string;
  org: string;
  bucket: string;
  timeoutMs?: number;
  /** INFLUX_KEEP_RETENTION: leave existing buckets' retention as the operator set it. */
  keepExistingRetention?: boolean;
  log: Pick<Logger, 'debug' | 'info' | 'warn'>;
}

const DEFAULT_TIMEOUT_MS = 10_000;

export function toInfluxPoint(point: MetricPoint): Point {
  return new Point(MEASUREMENT)
    .tag('device_id', point.deviceId)
    .tag('organization_id', point.organizationId)
    .floatField('cpu', point.cpu)
    .floatField('memory', point.memory)
    .floatField('disk_used', point.diskUsed)
    .floatField('network_rx', point.networkRx)
    .floatField('network_tx', point.networkTx)
    .floatField('disk_usage', point.diskPercent)
    .timestamp(point.timestamp);
}

/** Tag values that line protocol writes as they are (ids are UUIDs): no escaping, one byte each. */
const PLAIN_TAG = /^[0-9A-Za-z_.-]+$/;
/** `device_metrics,device_id=,organization_id= cpu=,disk_usage=,disk_used=,memory=,network_rx=,network_tx= ` */
const FIXED_BYTES = `${MEASUREMENT},device_id=,organization_id= cpu=,disk_usage=,disk_used=,memory=,network_rx=,network_tx= `.length;

/**
 * The bytes a point takes as line protocol at the millisecond precision `write` uses: what the
 * time-series store receives for one sample, before its own compression (billing's measure).
 * Counted, not written out: the drain counts every sample, and building the line through the
 * client's `Point` cost ~5 µs a sample, a third of the ClickHouse sink's time. The count is the
 * client's line to the byte (floats as `String(n)`, tags of plain ids unescaped, a test compares
 * them); a tag that would need escaping takes the client's way.
 */
export function lineProtocolBytes(point: MetricPoint): number {
  const fields = [point.cpu, point.diskPercent, point.diskUsed, point.memory, point.networkRx, point.networkTx];
  if (!PLAIN_TAG.test(point.deviceId) || !PLAIN_TAG.test(point.organizationId) || !fields.every(Number.isFinite)) {
    const line = toInfluxPoint(point).toLineProtocol({ convertTime: (time) => (time instanceof Date ? String(time.getTime()) : String(time)) });
    return line === undefined ? 0 : Buffer.byteLength(line);
  }
  let bytes = FIXED_BYTES + point.deviceId.length + point.organizationId.length + String(point.timestamp.getTime()).length;
  for (const value of fields) bytes += String(value).length;
  return bytes;
}

/**
 * For an HTTP answer from InfluxDB: a 4xx other than 408/429 will fail again the same way, so a
 * retry cannot help. Undefined for anything else (a socket error, a value the client refused):
 * the caller classifies those.
 */
export function isRetryableInfluxError(error: unknown): boolean | undefined {
  if (!(error instanceof HttpError)) return undefined;
  return error.statusCode >= 500 || error.statusCode === 408 || error.statusCode === 429;
}

type Row = Record<string, unknown> & { _time?: string };
const num = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : null);

/**
 * InfluxDB 2 (or anything speaking its `/api/v2/write`, like VictoriaMetrics): measurement
 * `device_metrics`, tags device_id + organization_id, ms timestamps = the agent's collection time.
 * Each `write` is one request without the client's own retry buffer: the drainer owns retries.
 */
export interface InfluxTimeSeriesStore extends TimeSeriesStore {
  ensureRetention(): Promise<RetentionReport>;
}

export function createInfluxTimeSeriesStore(options: InfluxOptions): InfluxTimeSeriesStore {
  const influx = new InfluxDB({ url: options.url, token: options.token, timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS });
  // The client prints failures to the console; ours are returned to the drainer and logged there.
  setLogger({ error: (message, error) => options.log.debug({ err: error }, message), warn: (message, error) => options.log.debug({ err: error }, message) });

  return {
    engine: 'influxdb',
    async write(points: readonly MetricPoint[]) {
      if (points.length === 0) return;
      const api = influx.getWriteApi(options.org, options.bucket, 'ms', {
        batchSize: points.length + 1, flushInterval: 0, maxRetries: 0, maxBufferLines: points.length + 1,
      });
      api.writePoints(points.map(toInfluxPoint));
      await api.close();
    },
    async querySeries(deviceId, organizationId, range) {
      const rows = await influx.getQueryApi(options.org).collectRows<Row>(seriesQuery(options.bucket, deviceId, organizationId, range));
      return rows
        .map((row): SeriesPoint => ({
          timestamp: new Date(String(row._time)),
          cpu: num(row.cpu), memory: num(row.memory), diskUsed: num(row.disk_used), networkRx: num(row.network_rx), networkTx: num(row.network_tx),
        }))
        // aggregateWindow leaves empty windows as nulls; the embedded store has no rows for them.
        .filter((point) => point.cpu !== null || point.memory !== null || point.diskUsed !== null)
        .sort((a, b) => a.timestamp.getTime() - b.timestamp.getTime());
    },
    async hourlyAggregates(from, to) {
      const rows = await influx.getQueryApi(options.org).collectRows<Row>(hourlyQuery(options.bucket, from, to));
      // Points written before a field existed (disk_usage) have no mean for it: 0, as line protocol writes a missing figure.
      const value = (row: Row, key: string) => num(row[key]) ?? 0;
      return rows
        .filter((row) => typeof row.device_id === 'string' && typeof row.organization_id === 'string' && num(row.cpu_mean) !== null)
        .map((row): HourlyAggregate => ({
          deviceId: String(row.device_id), organizationId: String(row.organization_id), hour: new Date(String(row._time)),
          cpuAvg: value(row, 'cpu_mean'), cpuMax: value(row, 'cpu_max'), memoryAvg: value(row, 'memory_mean'), memoryMax: value(row, 'memory_max'),
          diskUsage: value(row, 'disk_usage_mean'), networkIn: value(row, 'network_rx_mean'), networkOut: value(row, 'network_tx_mean'),
        }));
    },
    ensureRetention: () => ensureRetention(influx, options.org, options.bucket, options.log, { keepExistingRetention: options.keepExistingRetention ?? false }),
    /**
     * Series per bucket (`influxdb.cardinality`, InfluxDB 2 only): the open-source API reports no
     * bytes on disk, and series cardinality is what grows its index and memory.
     */
    async size() {
      const series: Record<string, number> = {};
      for (const bucket of Object.values(retentionBuckets(options.bucket))) {
        const rows = await influx.getQueryApi(options.org).collectRows<{ _value?: unknown }>(cardinalityQuery(bucket.name, bucket.everySeconds));
        series[bucket.name] = Number(rows[0]?._value ?? 0);
      }
      return { series };
    },
    // `/ping` answers on InfluxDB 2 and on VictoriaMetrics alike.
    health: () => probeHealth('influxdb', () => influx.transport.request('/ping', null, { method: 'GET' })),
    async close() {},
  };
}
