import type { Inventory, MetricSample } from '@ninjait/shared';
import { AGENT_VERSION } from '@ninjait/shared';

const GB = 1024 ** 3;

/** A small deterministic generator, so a machine's shape is stable across its samples. */
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x1_0000_0000;
  };
}

/** The fixed shape of a simulated machine: cores, memory, disks, interfaces. */
export interface MachineShape {
  index: number;
  cores: number;
  memoryBytes: number;
  disks: { mount: string; fs: string; type: string; sizeBytes: number }[];
  ifaces: string[];
}

export function machineShape(index: number): MachineShape {
  const r = rng(index * 2654435761);
  const cores = [2, 4, 4, 8, 8, 16][Math.floor(r() * 6)]!;
  const disks = [{ mount: '/', fs: '/dev/nvme0n1p2', type: 'ext4', sizeBytes: Math.round((128 + r() * 900) * GB) }];
  if (r() < 0.4) disks.push({ mount: '/data', fs: '/dev/sdb1', type: 'xfs', sizeBytes: Math.round((500 + r() * 3500) * GB) });
  const ifaces = r() < 0.3 ? ['eth0', 'wlan0'] : ['eth0'];
  return { index, cores, memoryBytes: [8, 16, 16, 32, 64][Math.floor(r() * 5)]! * GB, disks, ifaces };
}

/**
 * One sample the size and shape the real agent sends (`metricSampleSchema`): per-core CPU,
 * memory, disks, interfaces with counters that only grow.
 */
export function makeSample(shape: MachineShape, seq: number, uptimeSec: number): MetricSample {
  const r = rng(shape.index * 7919 + seq);
  const load = 5 + r() * 60;
  const used = Math.round(shape.memoryBytes * (0.3 + r() * 0.5));
  return {
    cpu: { loadPercent: round1(load), perCorePercent: Array.from({ length: shape.cores }, () => round1(Math.min(100, load * (0.5 + r())))) },
    memory: {
      totalBytes: shape.memoryBytes, usedBytes: used, availableBytes: shape.memoryBytes - used,
      swapTotalBytes: 2 * GB, swapUsedBytes: Math.round(r() * 0.2 * GB),
    },
    disks: shape.disks.map((d) => ({ ...d, usedBytes: Math.round(d.sizeBytes * (0.4 + (seq % 1000) / 5000)) })),
    network: shape.ifaces.map((iface) => ({
      iface, rxBytes: seq * 1_500_000, txBytes: seq * 400_000,
      rxBytesPerSec: round1(r() * 200_000), txBytesPerSec: round1(r() * 50_000), rxErrors: 0, txErrors: 0,
    })),
    uptimeSec,
  };
}

export function makeInventory(shape: MachineShape, runId: string): Inventory {
  return {
    hostname: `bench-${runId}-${shape.index}`,
    os: { platform: 'linux', distro: 'Debian GNU/Linux', release: '12', kernel: '6.1.0-18-amd64', arch: 'x64' },
    hardware: { manufacturer: 'Bench', model: 'Simulated', serial: `SIM${shape.index}`, uuid: '' },
    machineKey: `bench:${runId}:${shape.index}`,
    cpu: { brand: 'Simulated CPU', cores: shape.cores, physicalCores: shape.cores / 2, speedGHz: 3.1 },
    memoryBytes: shape.memoryBytes,
    disks: shape.disks.map((d) => ({ device: d.fs, type: 'SSD', name: d.fs, sizeBytes: d.sizeBytes })),
    interfaces: shape.ifaces.map((iface, i) => ({
      iface, mac: `02:00:${hex(shape.index >> 16)}:${hex(shape.index >> 8)}:${hex(shape.index)}:${hex(i)}`,
      ip4: `10.${(shape.index >> 8) & 255}.${shape.index & 255}.${i + 2}`, ip6: '',
    })),
    agentVersion: AGENT_VERSION,
  };
}

const round1 = (n: number) => Math.round(n * 10) / 10;
const hex = (n: number) => (n & 255).toString(16).padStart(2, '0');
