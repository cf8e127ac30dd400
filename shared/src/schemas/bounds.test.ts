import { describe, expect, it } from 'vitest';
import { LATEST_TIME_MS, MAX_BYTES, MAX_UPTIME_SEC } from '../constants.ts';
import { heartbeatInputSchema, pushInputSchema } from './ingest.ts';
import { inventorySchema } from './inventory.ts';
import { metricSampleSchema, type MetricSample } from './sample.ts';
import { storableText } from './bounds.ts';
import { deviceListInputSchema } from './devices.ts';

const sample = (): MetricSample => ({
  cpu: { loadPercent: 10, perCorePercent: [10] },
  memory: { totalBytes: 100, usedBytes: 50, availableBytes: 50, swapTotalBytes: 0, swapUsedBytes: 0 },
  disks: [{ mount: '/', fs: '/dev/sda1', type: 'ext4', sizeBytes: 100, usedBytes: 10 }],
  network: [{ iface: 'eth0', rxBytes: 1, txBytes: 1, rxBytesPerSec: 1, txBytesPerSec: null, rxErrors: 0, txErrors: 0 }],
  uptimeSec: 10,
});
const push = (collectedAt: number, patch: (s: MetricSample) => void = () => undefined) => {
  const body = sample();
  patch(body);
  return pushInputSchema.safeParse({ records: [{ seq: 1, collectedAt, kind: 'sample', sample: body }] });
};

describe('agent input bounds', () => {
  it('refuses a time no clock shows, and keeps the edges a clock can', () => {
    expect(push(8.7e15).success).toBe(false);
    expect(push(LATEST_TIME_MS + 1).success).toBe(false);
    expect(push(0).success).toBe(false);
    expect(push(1).success).toBe(true);
    expect(push(LATEST_TIME_MS).success).toBe(true);
  });

  it('refuses counters that are negative, not finite, fractional or past what a store sums exactly', () => {
    expect(push(1, (s) => { s.memory.usedBytes = -1; }).success).toBe(false);
    expect(push(1, (s) => { s.memory.usedBytes = Number.POSITIVE_INFINITY; }).success).toBe(false);
    expect(push(1, (s) => { s.memory.usedBytes = Number.NaN; }).success).toBe(false);
    expect(push(1, (s) => { s.memory.usedBytes = 1.5; }).success).toBe(false);
    expect(push(1, (s) => { s.disks[0]!.sizeBytes = MAX_BYTES + 2; }).success).toBe(false);
    expect(push(1, (s) => { s.network[0]!.rxBytesPerSec = 1e300; }).success).toBe(false);
    expect(push(1, (s) => { s.uptimeSec = MAX_UPTIME_SEC + 1; }).success).toBe(false);
    expect(push(1, (s) => { s.cpu.loadPercent = 100.01; }).success).toBe(false);
    expect(push(1, (s) => {
      s.disks[0]!.sizeBytes = MAX_BYTES;
      s.network[0]!.rxBytesPerSec = MAX_BYTES;
      s.uptimeSec = MAX_UPTIME_SEC;
      s.cpu.loadPercent = 100;
    }).success).toBe(true);
  });

  it('bounds every list and string', () => {
    expect(push(1, (s) => { s.disks = Array.from({ length: 257 }, () => s.disks[0]!); }).success).toBe(false);
    expect(push(1, (s) => { s.disks = Array.from({ length: 256 }, () => s.disks[0]!); }).success).toBe(true);
    expect(push(1, (s) => { s.cpu.perCorePercent = Array.from({ length: 1_025 }, () => 1); }).success).toBe(false);
    expect(push(1, (s) => { s.disks[0]!.mount = 'x'.repeat(513); }).success).toBe(false);
    expect(heartbeatInputSchema.safeParse({
      agentVersion: '1', intervalMs: 1_000, bufferedRecords: 0, bufferedBytes: 0, droppedTotal: 0,
      errors: [{ at: 8.7e15, code: 'x', message: 'y' }],
    }).success).toBe(false);
  });

  it('makes text storable instead of refusing it: NUL and unpaired surrogates become U+FFFD, pairs stay', () => {
    const parsed = push(1, (s) => { s.disks[0]!.mount = '/a\u0000b\ud800c\udc00d\ud83d\ude00'; });
    const record = parsed.data?.records[0];
    expect(record?.kind === 'sample' && record.sample.disks[0]!.mount).toBe('/a\uFFFDb\uFFFDc\uFFFDd\ud83d\ude00');
    expect(storableText('plain')).toBe('plain');
    expect(storableText('\udc00\ud800')).toBe('\uFFFD\uFFFD');
  });

  it('makes the fleet filters storable too: a NUL in a search cannot fail the query', () => {
    expect(deviceListInputSchema.parse({ search: 'a\u0000b', osType: '\u0000' })).toMatchObject({ search: 'a\uFFFDb', osType: '\uFFFD' });
  });

  it("fits the inventory's platform to the devices column it is stored in", () => {
    const inventory = {
      hostname: 'h', os: { platform: 'p'.repeat(51), distro: '', release: '', kernel: '', arch: '' },
      hardware: { manufacturer: '', model: '', serial: '', uuid: '' }, machineKey: 'k',
      cpu: { brand: '', cores: 1, physicalCores: 1, speedGHz: 1 }, memoryBytes: 1, disks: [], interfaces: [], agentVersion: '1',
    };
    expect(inventorySchema.safeParse(inventory).success).toBe(false);
    expect(inventorySchema.safeParse({ ...inventory, os: { ...inventory.os, platform: 'linux' } }).success).toBe(true);
    expect(metricSampleSchema.safeParse(sample()).success).toBe(true);
  });
});
