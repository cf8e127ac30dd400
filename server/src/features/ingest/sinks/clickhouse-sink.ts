import { deriveMetrics, storableCount } from '@ninjait/shared';
import type { AnalyticsStore } from '../../../stores/analytics/index.ts';
import { markHoursDirty } from '../../analytics/rollup-dirty.ts';
import { isoDate, unixSec, utcDateTime64 } from '../../../stores/analytics/time.ts';
import { lineProtocolBytes, sampleToPoint } from '../../../stores/timeseries/index.ts';
import { failure, success, latestPerDevice, type IngestRow, type Sink } from './types.ts';
import { splitStorable } from './values.ts';

/**
 * One `device_metrics_raw` row; the columns the time-series port reads when InfluxDB is not
 * configured. The numbers are `deriveMetrics`' (so `disk_usage` is the busiest file system's
 * share, as the console shows it), with 0 for what the sample lacks; the row's time must be
 * storable (`splitStorable`), or the timestamp is null.
 */
export function rawMetricRow(row: IngestRow & { kind: 'sample' }) {
  const metrics = deriveMetrics(row.payload);
  return {
    device_id: row.deviceId,
    organization_id: row.organizationId,
    timestamp: utcDateTime64(row.collectedAt),
    seq: row.seq,
    cpu: metrics.cpuPercent ?? 0,
    memory: metrics.memoryPercent ?? 0,
    memory_used: metrics.memoryUsedBytes ?? 0,
    disk_used: metrics.diskUsedBytes ?? 0,
    disk_usage: metrics.diskPercent ?? 0,
    network_in: storableCount(metrics.rxBytesPerSec),
    network_out: storableCount(metrics.txBytesPerSec),
  };
}

type Sample = IngestRow & { kind: 'sample' };

/**
 * One `metric_usage_daily` row per device and UTC day of the batch: how many samples, and their
 * size as line protocol. Billing's storage figure, the same whichever store keeps the series.
 */
export function usageRows(samples: readonly Sample[]) {
  const usage = new Map<string, { organization_id: string; device_id: string; day: string; samples: number; bytes: number }>();
  for (const row of samples) {
    const day = isoDate(row.collectedAt.getTime());
    const key = `${row.deviceId}/${day}`;
    const entry = usage.get(key) ?? { organization_id: row.organizationId, device_id: row.deviceId, day, samples: 0, bytes: 0 };
    entry.samples += 1;
    entry.bytes += lineProtocolBytes(sampleToPoint(row));
    usage.set(key, entry);
  }
  return [...usage.values()];
}

export interface ClickhouseSinkOptions {
  /**
   * Write every sample to `device_metrics_raw`: true when that table is the time-series store
   * (no InfluxDB configured). With InfluxDB the raw series live there only, and ClickHouse keeps
   * the heartbeats, the usage counts and the rollup's dirty hours (it reads InfluxDB's series).
   */
  rawSamples: boolean;
}

/**
 * Samples to `device_metrics_raw` (when `rawSamples`), one 'online' heartbeat per device to
 * `device_heartbeats`, the samples' usage to `metric_usage_daily`, and the finished hours that got
 * samples marked dirty for the hourly rollup. Replays are dropped by the insert deduplication
 * token (the batch's log id range) and, failing that, raw rows collapse on the raw table's
 * (device_id, timestamp, seq) key. The usage insert goes last: a batch that failed before it
 * counted nothing, so a retry, or the drainer isolating a bad row in sub-ranges, counts it once.
 */
export function createClickhouseSink(analytics: AnalyticsStore, options: ClickhouseSinkOptions): Sink {
  return {
    name: 'clickhouse',
    async init() {},
    async write(batch) {
      const first = batch[0];
      const last = batch.at(-1);
      if (!first || !last) return { ok: true };
      try {
        const { storable, rejected } = splitStorable(batch);
        // The token names the range the drainer asked for; a drainer isolating a bad row writes sub-ranges, each its own token.
        const token = `ingest:${first.id}-${last.id}`;
        const samples = storable.filter((row): row is Sample => row.kind === 'sample');
        const heartbeats = [...latestPerDevice(storable).values()].map((row) => ({
          organization_id: row.organizationId,
          device_id: row.deviceId,
          status: 'online',
          timestamp: unixSec(row.collectedAt.getTime()),
        }));
        if (options.rawSamples) await analytics.insert('device_metrics_raw', samples.map(rawMetricRow), { dedupToken: token });
        await analytics.insert('device_heartbeats', heartbeats, { dedupToken: token });
        await markHoursDirty(analytics, samples.map((row) => row.collectedAt.getTime()));
        await analytics.insert('metric_usage_daily', usageRows(samples), { dedupToken: token });
        return success(rejected);
      } catch (error) {
        return failure(error);
      }
    },
    health: () => analytics.health(),
    async close() {},
  };
}
