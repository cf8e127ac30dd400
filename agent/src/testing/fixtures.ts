import type { Inventory, MetricSample } from '@ninjait/shared';
import type { NewRecord } from '../outbox/types.ts';

/** A valid sample whose size grows with `pad` (for cap tests). */
export function fakeSample(pad = 0): MetricSample {
  return {
    cpu: { loadPercent: 12.5, perCorePercent: [10, 15] },
    memory: { totalBytes: 8e9, usedBytes: 4e9, availableBytes: 4e9, swapTotalBytes: 0, swapUsedBytes: 0 },
    disks: [{ mount: '/', fs: '/dev/sda1' + 'x'.repeat(pad), type: 'ext4', sizeBytes: 1e11, usedBytes: 5e10 }],
    network: [{ iface: 'eth0', rxBytes: 1, txBytes: 2, rxBytesPerSec: null, txBytesPerSec: 0, rxErrors: 0, txErrors: 0 }],
    uptimeSec: 100,
  };
}

/** A valid sample record without its seq. */
export function fakeRecord(collectedAt = Date.now(), pad = 0): NewRecord {
  return { kind: 'sample', collectedAt, sample: fakeSample(pad) };
}

/** A valid inventory. */
export function fakeInventory(): Inventory {
  return {
    hostname: 'test-host',
    os: { platform: 'linux', distro: 'Debian', release: '12', kernel: '6.1', arch: 'x64' },
    hardware: { manufacturer: '', model: '', serial: '', uuid: '' },
    machineKey: 'test-machine-key',
    cpu: { brand: 'Test CPU', cores: 2, physicalCores: 2, speedGHz: 2.5 },
    memoryBytes: 8e9,
    disks: [],
    interfaces: [],
    agentVersion: '0.1.0',
  };
}
