import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetricSample } from '@ninjait/shared';
import { createChdbStore } from '../../analytics/chdb/chdb-store.ts';
import { migrateAnalytics, type AnalyticsStore } from '../../analytics/index.ts';
import { rawMetricRow } from '../../../features/ingest/sinks/clickhouse-sink.ts';
import type { IngestRow } from '../../../features/ingest/sinks/types.ts';
import { createEmbeddedTimeSeriesStore } from './embedded-store.ts';

const FIVE_MIN_MS = 5 * 60 * 1000;

function sampleRow(deviceId: string, organizationId: string, seq: number, at: number, cpu: number, memoryUsed: number): IngestRow & { kind: 'sample' } {
  const payload: MetricSample = {
    cpu: { loadPercent: cpu, perCorePercent: [] },
    memory: { totalBytes: 1_000, usedBytes: memoryUsed, availableBytes: 1_000 - memoryUsed, swapTotalBytes: 0, swapUsedBytes: 0 },
    disks: [{ mount: '/', fs: 'sda', type: 'ext4', sizeBytes: 10_000, usedBytes: 1_000 * seq }],
    network: [{ iface: 'eth0', rxBytes: 0, txBytes: 0, rxBytesPerSec: 100 * seq, txBytesPerSec: 10 * seq, rxErrors: 0, txErrors: 0 }],
    uptimeSec: 1,
  };
  return { id: seq, deviceId, organizationId, seq, kind: 'sample', collectedAt: new Date(at), receivedAt: new Date(), sourceIp: null, payload };
}

describe('embedded time series: the Flux query as SQL on device_metrics_raw (chdb)', () => {
  let dir: string;
  let analytics: AnalyticsStore;
  const device = randomUUID();
  const org = randomUUID();
  // Two whole 5-minute windows that ended before now.
  const windowStart = Math.floor(Date.now() / FIVE_MIN_MS) * FIVE_MIN_MS - 2 * FIVE_MIN_MS;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ninjait-ts-'));
    analytics = createChdbStore(join(dir, 'chdb'));
    await migrateAnalytics(analytics);
    const rows = [
      sampleRow(device, org, 1, windowStart + 10_000, 10, 200),
      sampleRow(device, org, 2, windowStart + 70_000, 30, 400),
      sampleRow(device, org, 3, windowStart + FIVE_MIN_MS + 10_000, 50, 800),
      // Outside the hour, another organization's copy of the id, another device: none count.
      sampleRow(device, org, 4, Date.now() - 2 * 60 * 60 * 1000, 99, 999),
      sampleRow(device, randomUUID(), 5, windowStart + 20_000, 99, 999),
      sampleRow(randomUUID(), org, 6, windowStart + 20_000, 99, 999),
    ].map(rawMetricRow);
    await analytics.insert('device_metrics_raw', rows);
    // A replay of seq 2 that has not been merged away yet must not weigh twice.
    await analytics.insert('device_metrics_raw', [rows[1]!]);
  });
  afterAll(async () => {
    await analytics?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('returns 5-minute means stamped with the window end, scoped to device and organization', async () => {
    const store = createEmbeddedTimeSeriesStore(analytics);
    const points = await store.querySeries(device, org, '1h');
    expect(points).toEqual([
      { timestamp: new Date(windowStart + FIVE_MIN_MS), cpu: 20, memory: 30, diskUsed: 1_500, networkRx: 150, networkTx: 15 },
      { timestamp: new Date(windowStart + 2 * FIVE_MIN_MS), cpu: 50, memory: 80, diskUsed: 3_000, networkRx: 300, networkTx: 30 },
    ]);
    expect(await store.querySeries(device, randomUUID(), '1h')).toEqual([]);
  });

  it('answers 24 h with hourly means and 30 d with daily means of the hourly rollup', async () => {
    const store = createEmbeddedTimeSeriesStore(analytics);
    const HOUR_MS = 60 * 60 * 1000;
    const DAY_MS = 24 * HOUR_MS;
    const samples = [[windowStart + 10_000, 10], [windowStart + 70_000, 30], [windowStart + FIVE_MIN_MS + 10_000, 50], [Date.now() - 2 * HOUR_MS, 99]] as const;
    const byHour = new Map<number, number[]>();
    for (const [at, cpu] of samples) {
      const end = Math.floor(at / HOUR_MS) * HOUR_MS + HOUR_MS;
      byHour.set(end, [...(byHour.get(end) ?? []), cpu]);
    }
    const day = await store.querySeries(device, org, '24h');
    expect(day.map((point) => [point.timestamp.getTime(), point.cpu])).toEqual(
      [...byHour].sort(([a], [b]) => a - b).map(([end, cpus]) => [end, cpus.reduce((a, b) => a + b, 0) / cpus.length]));

    const yesterday = Math.floor(Date.now() / DAY_MS) * DAY_MS - DAY_MS;
    const hourly = (hour: number, cpu: number) => ({
      device_id: device, timestamp: Math.floor((yesterday + hour * HOUR_MS) / 1000), cpu_avg: cpu, cpu_max: cpu, memory_avg: cpu / 2, memory_max: cpu,
      disk_usage: 40, network_in: 1_000, network_out: 100,
    });
    await analytics.insert('device_metrics_hourly', [hourly(3, 10), hourly(4, 30)]);
    expect(await store.querySeries(device, org, '30d')).toEqual([
      { timestamp: new Date(yesterday + DAY_MS), cpu: 20, memory: 10, diskUsed: null, networkRx: 1_000, networkTx: 100 },
    ]);
    // A year reads the same hourly means (this engine keeps no 5-minute ones), in weekly windows.
    const year = await store.querySeries(device, org, '1y');
    expect(year.map((point) => [point.cpu, point.timestamp.getTime() >= yesterday + HOUR_MS])).toEqual([[20, true]]);
    expect((await store.health()).ok).toBe(true);
  });
});
