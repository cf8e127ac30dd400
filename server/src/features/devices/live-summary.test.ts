import { describe, expect, it } from 'vitest';
import { summarize } from './live-summary.ts';

describe('live device summaries', () => {
  it('computes the table numbers from a full sample', () => {
    const summary = summarize({
      seq: 7,
      collectedAt: '2026-11-25T12:00:00.000Z',
      cpu: { loadPercent: 42.5, perCorePercent: [40, 45] },
      memory: { totalBytes: 8e9, usedBytes: 6e9, availableBytes: 2e9, swapTotalBytes: 0, swapUsedBytes: 0 },
      disks: [
        { mount: '/', fs: '/dev/sda1', type: 'ext4', sizeBytes: 100e9, usedBytes: 25e9 },
        { mount: '/data', fs: '/dev/sdb1', type: 'ext4', sizeBytes: 200e9, usedBytes: 180e9 },
        { mount: '/proc', fs: 'proc', type: 'proc', sizeBytes: 0, usedBytes: 0 },
      ],
      network: [
        { iface: 'eth0', rxBytes: 1, txBytes: 1, rxBytesPerSec: 1_000, txBytesPerSec: 500, rxErrors: 0, txErrors: 0 },
        { iface: 'eth1', rxBytes: 1, txBytes: 1, rxBytesPerSec: null, txBytesPerSec: 250, rxErrors: 0, txErrors: 0 },
      ],
      uptimeSec: 3_600,
    });
    expect(summary).toEqual({
      collectedAt: '2026-11-25T12:00:00.000Z', seq: 7, cpuPercent: 42.5, memoryPercent: 75,
      diskPercent: 90, diskUsedBytes: 205e9, rxBytesPerSec: 1_000, txBytesPerSec: 750, uptimeSec: 3_600,
    });
  });

  it('gives nulls, not errors, for what a sample lacks, and nothing without a sample', () => {
    expect(summarize(null)).toBeNull();
    expect(summarize({ collectedAt: '2026-11-25T12:00:00.000Z', network: [
      { iface: 'eth0', rxBytes: 0, txBytes: 0, rxBytesPerSec: null, txBytesPerSec: null, rxErrors: 0, txErrors: 0 },
    ] })).toEqual({
      collectedAt: '2026-11-25T12:00:00.000Z', seq: 0, cpuPercent: null, memoryPercent: null, diskPercent: null,
      diskUsedBytes: null, rxBytesPerSec: null, txBytesPerSec: null, uptimeSec: null,
    });
  });
});
