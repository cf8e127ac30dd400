import { deriveMetrics, storableCount } from '@ninjait/shared';
import type { AnalyticsStore } from '../../../stores/analytics/index.ts';
import { markHoursDirty } from '../../analytics/rollup-dirty.ts';
import { unixSec, utcDateTime64 } from '../../../stores/analytics/time.ts';
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

/**
 * Samples to `device_metrics_raw`, one 'online' heartbeat per device to `device_heartbeats`.
 * Replays are dropped by the insert deduplication token (the batch's log id range) and,
 * failing that, collapse on the raw table's (device_id, timestamp, seq) key.
 */
export function createClickhouseSink(analytics: AnalyticsStore): Sink {
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
        const samples = storable.filter((row): row is IngestRow & { kind: 'sample' } => row.kind === 'sample');
        const heartbeats = [...latestPerDevice(storable).values()].map((row) => ({
          organization_id: row.organizationId,
          device_id: row.deviceId,
          status: 'online',
          timestamp: unixSec(row.collectedAt.getTime()),
        }));
        await analytics.insert('device_metrics_raw', samples.map(rawMetricRow), { dedupToken: token });
        await analytics.insert('device_heartbeats', heartbeats, { dedupToken: token });
        await markHoursDirty(analytics, samples.map((row) => row.collectedAt.getTime()));
        return success(rejected);
      } catch (error) {
        return failure(error);
      }
    },
    health: () => analytics.health(),
    async close() {},
  };
}
