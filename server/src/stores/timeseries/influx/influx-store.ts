import { HttpError, InfluxDB, Point, setLogger } from '@influxdata/influxdb-client';
import type { Logger } from '../../../obs/logger.ts';
import { probeHealth } from '../../types.ts';
import type { MetricPoint, SeriesPoint, TimeSeriesStore } from '../types.ts';
import { MEASUREMENT, seriesQuery } from './flux.ts';
import { ensureRetention } from './retention.ts';

export interface InfluxOptions {
  url: string;
  token: string;
  org: string;
  bucket: string;
  timeoutMs?: number;
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
    .timestamp(point.timestamp);
}

/** A 4xx other than 408/429 will fail again the same way: the drainer should not expect a retry to help. */
export function isRetryableInfluxError(error: unknown): boolean {
  if (!(error instanceof HttpError)) return true;
  return error.statusCode >= 500 || error.statusCode === 408 || error.statusCode === 429;
}

type Row = Record<string, unknown> & { _time?: string };
const num = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : null);

/**
 * InfluxDB 2 (or anything speaking its `/api/v2/write`, like VictoriaMetrics): measurement
 * `device_metrics`, tags device_id + organization_id, ms timestamps = the agent's collection time.
 * Each `write` is one request without the client's own retry buffer: the drainer owns retries.
 */
export function createInfluxTimeSeriesStore(options: InfluxOptions): TimeSeriesStore & { ensureRetention(): Promise<void> } {
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
    async ensureRetention() {
      await ensureRetention(influx, options.org, options.bucket, options.log);
    },
    // `/ping` answers on InfluxDB 2 and on VictoriaMetrics alike.
    health: () => probeHealth('influxdb', () => influx.transport.request('/ping', null, { method: 'GET' })),
    async close() {},
  };
}
