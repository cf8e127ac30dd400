import type { MetricSample } from '@ninjait/shared';
import type { AnalyticsStore } from '../stores/analytics/index.ts';
import { markHoursDirty } from '../analytics/rollup-dirty.ts';
import { unixSec, utcDateTime64 } from '../analytics/time.ts';
import { failure, latestPerDevice, type IngestRow, type Sink } from './types.ts';

const sum = (values: readonly number[]) => values.reduce((total, value) => total + value, 0);

/** One `device_metrics_raw` row; the columns the time-series port reads when InfluxDB is not configured. */
export function rawMetricRow(row: IngestRow & { kind: 'sample' }) {
  const sample: MetricSample = row.payload;
  const diskSize = sum(sample.disks.map((disk) => disk.sizeBytes));
  const diskUsed = sum(sample.disks.map((disk) => disk.usedBytes));
  return {
    device_id: row.deviceId,
    organization_id: row.organizationId,
    timestamp: utcDateTime64(row.collectedAt),
    seq: row.seq,
    cpu: sample.cpu.loadPercent,
    memory: sample.memory.totalBytes > 0 ? (sample.memory.usedBytes / sample.memory.totalBytes) * 100 : 0,
    memory_used: sample.memory.usedBytes,
    disk_used: diskUsed,
    disk_usage: diskSize > 0 ? (diskUsed / diskSize) * 100 : 0,
    network_in: Math.round(sum(sample.network.map((nic) => nic.rxBytesPerSec ?? 0))),
    network_out: Math.round(sum(sample.network.map((nic) => nic.txBytesPerSec ?? 0))),
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
      const token = `ingest:${first.id}-${last.id}`;
      const samples = batch.filter((row): row is IngestRow & { kind: 'sample' } => row.kind === 'sample');
      const heartbeats = [...latestPerDevice(batch).values()].map((row) => ({
        organization_id: row.organizationId,
        device_id: row.deviceId,
        status: 'online',
        timestamp: unixSec(row.collectedAt.getTime()),
      }));
      try {
        await analytics.insert('device_metrics_raw', samples.map(rawMetricRow), { dedupToken: token });
        await analytics.insert('device_heartbeats', heartbeats, { dedupToken: token });
        await markHoursDirty(analytics, samples.map((row) => row.collectedAt.getTime()));
        return { ok: true };
      } catch (error) {
        return failure(error);
      }
    },
    health: () => analytics.health(),
    async close() {},
  };
}
