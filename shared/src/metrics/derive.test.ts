import { describe, expect, it } from 'vitest';
import type { MetricSample } from '../schemas/sample.ts';
import { deriveMetrics } from './derive.ts';

const sample: MetricSample = {
  cpu: { loadPercent: 42.5, perCorePercent: [40, 45] },
  memory: { totalBytes: 8e9, usedBytes: 6e9, availableBytes: 2e9, swapTotalBytes: 0, swapUsedBytes: 0 },
  disks: [
    { mount: '/', fs: '/dev/sda1', type: 'ext4', sizeBytes: 100e9, usedBytes: 95e9 },
    { mount: '/data', fs: '/dev/sdb1', type: 'ext4', sizeBytes: 4_000e9, usedBytes: 40e9 },
    { mount: '/proc', fs: 'proc', type: 'proc', sizeBytes: 0, usedBytes: 0 },
  ],
  network: [
    { iface: 'eth0', rxBytes: 1, txBytes: 1, rxBytesPerSec: 1_000, txBytesPerSec: 500, rxErrors: 0, txErrors: 0 },
    { iface: 'eth1', rxBytes: 1, txBytes: 1, rxBytesPerSec: null, txBytesPerSec: 250.5, rxErrors: 0, txErrors: 0 },
  ],
  uptimeSec: 3_600,
};

describe('deriveMetrics', () => {
  it('reports the busiest disk, not a total a big empty disk would hide a full root behind', () => {
    const metrics = deriveMetrics(sample);
    expect(metrics.diskPercent).toBe(95);
    expect(metrics).toEqual({
      cpuPercent: 42.5, memoryPercent: 75, memoryUsedBytes: 6e9, diskPercent: 95, diskUsedBytes: 135e9,
      rxBytesPerSec: 1_000, txBytesPerSec: 750.5, uptimeSec: 3_600,
    });
  });

  it('gives null for what a sample lacks, including rates no interface has yet', () => {
    const nic = { ...sample.network[0]!, rxBytesPerSec: null, txBytesPerSec: null };
    expect(deriveMetrics({ network: [nic] })).toEqual({
      cpuPercent: null, memoryPercent: null, memoryUsedBytes: null, diskPercent: null, diskUsedBytes: null,
      rxBytesPerSec: null, txBytesPerSec: null, uptimeSec: null,
    });
    expect(deriveMetrics({ disks: [{ ...sample.disks[2]! }] })).toMatchObject({ diskPercent: null, diskUsedBytes: 0 });
  });

  it('never returns NaN, Infinity, a negative or an unstorable number, whatever the payload holds', () => {
    const hostile = deriveMetrics({
      cpu: { loadPercent: 1e308, perCorePercent: [] },
      memory: { ...sample.memory, totalBytes: 10, usedBytes: -5 },
      disks: [{ ...sample.disks[0]!, sizeBytes: Number.POSITIVE_INFINITY, usedBytes: 1e300 }, { ...sample.disks[0]!, sizeBytes: 1, usedBytes: 1e300 }],
      network: [{ ...sample.network[0]!, rxBytesPerSec: 1e300, txBytesPerSec: -1 }],
      uptimeSec: Number.NaN,
    });
    expect(hostile).toEqual({
      cpuPercent: 100, memoryPercent: 0, memoryUsedBytes: 0, diskPercent: 100, diskUsedBytes: 1e19,
      rxBytesPerSec: 1e19, txBytesPerSec: 0, uptimeSec: 0,
    });
  });
});
