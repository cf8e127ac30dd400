import { describe, expect, it } from 'vitest';
import { createClickhouseStore } from '../../../stores/analytics/clickhouse/clickhouse-store.ts';
import { batchToken, createClickhouseSink, rawMetricRow } from './clickhouse-sink.ts';
import type { IngestRow } from './types.ts';

const row: IngestRow & { kind: 'sample' } = {
  id: 7, deviceId: 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', organizationId: '11111111-1111-4111-8111-111111111111', seq: 3,
  collectedAt: new Date('2025-03-01T10:20:30.456Z'), receivedAt: new Date(), sourceIp: null, kind: 'sample',
  payload: {
    cpu: { loadPercent: 12.5, perCorePercent: [12.5] },
    memory: { totalBytes: 800, usedBytes: 200, availableBytes: 600, swapTotalBytes: 0, swapUsedBytes: 0 },
    disks: [{ mount: '/', fs: 'a', type: 'ext4', sizeBytes: 100, usedBytes: 10 }, { mount: '/x', fs: 'b', type: 'xfs', sizeBytes: 300, usedBytes: 90 }],
    network: [
      { iface: 'eth0', rxBytes: 0, txBytes: 0, rxBytesPerSec: 1.4, txBytesPerSec: null, rxErrors: 0, txErrors: 0 },
      { iface: 'eth1', rxBytes: 0, txBytes: 0, rxBytesPerSec: 2, txBytesPerSec: 5, rxErrors: 0, txErrors: 0 },
    ],
    uptimeSec: 5,
  },
};

describe('ClickHouse sink', () => {
  it('maps a sample to one device_metrics_raw row (percentages, the busiest disk, sums over disks and interfaces, UTC time)', () => {
    expect(rawMetricRow(row)).toEqual({
      device_id: row.deviceId, organization_id: row.organizationId, timestamp: '2025-03-01 10:20:30.456', seq: 3,
      cpu: 12.5, memory: 25, memory_used: 200, disk_used: 100, disk_usage: 30, network_in: 3, network_out: 5,
    });
  });

  it('never produces a value a column refuses, whatever the payload holds', () => {
    const hostile = {
      ...row,
      payload: {
        ...row.payload,
        cpu: { loadPercent: 1e308, perCorePercent: [] },
        memory: { ...row.payload.memory, totalBytes: 10, usedBytes: -5 },
        disks: [{ ...row.payload.disks[0]!, sizeBytes: Number.POSITIVE_INFINITY, usedBytes: 1e300 }],
        network: [{ ...row.payload.network[0]!, rxBytesPerSec: 1e300 }, { ...row.payload.network[0]!, rxBytesPerSec: 1e300, txBytesPerSec: -1 }],
      },
    };
    expect(rawMetricRow(hostile)).toMatchObject({ cpu: 100, memory: 0, memory_used: 0, disk_used: 1e19, disk_usage: 0, network_in: 1e19, network_out: 0 });
    expect(JSON.stringify(rawMetricRow(hostile))).not.toMatch(/e\+|null|Infinity/);
  });

  it('leaves out a row whose time no column holds instead of throwing, and says why', async () => {
    const store = createClickhouseStore({ url: 'http://127.0.0.1:1', requestTimeoutMs: 2_000 });
    const poison = { ...row, collectedAt: new Date(8.7e15) };
    const result = await createClickhouseSink(store, { rawSamples: true }).write([poison], new AbortController().signal);
    expect(result).toEqual({ ok: true, rejected: [{ row: poison, reason: expect.stringMatching(/not a valid date/) as unknown }] });
    await store.close();
  });

  it('returns a retryable failure when ClickHouse is down, so the drainer keeps its cursor and retries', async () => {
    const store = createClickhouseStore({ url: 'http://127.0.0.1:1', requestTimeoutMs: 2_000 });
    const result = await createClickhouseSink(store, { rawSamples: true }).write([row], new AbortController().signal);
    expect(result).toMatchObject({ ok: false, retryable: true });
    await store.close();
  });
});

describe('the insert deduplication token', () => {
  const rows = (ids: number[]) => ids.map((id) => ({ id }) as IngestRow);
  it('is the same only for the same rows, however a batch begins and ends', () => {
    expect(batchToken(rows([20, 21, 22, 25]))).toBe(batchToken(rows([20, 21, 22, 25])));
    // Interleaved and redelivered messages of a shared JetStream consumer: same ends, other rows.
    expect(batchToken(rows([20, 25]))).not.toBe(batchToken(rows([20, 22, 25])));
    expect(batchToken(rows([20, 22, 25]))).not.toBe(batchToken(rows([20, 23, 25])));
    expect(batchToken(rows([2 ** 40 + 1, 2 ** 40 + 7]))).not.toBe(batchToken(rows([2 ** 40 + 1, 2 ** 41 + 7])));
  });
});
