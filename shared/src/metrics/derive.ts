import type { MetricSample } from '../schemas/sample.ts';
import { storableAmount, storableCount, storablePercent } from './storable.ts';

/**
 * The numbers every store and screen shows for one sample, computed here only: the ClickHouse
 * raw table, the time-series points, the live fleet table and the device page all agree.
 *
 * - `memoryPercent`: used over total (the agent reports used as total minus available, so page
 *   cache does not count as used).
 * - `diskPercent`: the BUSIEST file system's used share, not a total over all of them: one full
 *   disk is what stops a machine, and a big empty data disk must not hide a full root.
 * - `diskUsedBytes`: bytes used summed over all file systems (a volume, for trends).
 * - network rates: summed over interfaces.
 *
 * A part the sample lacks (older agent, a probe that failed, the first sample's rates) is null;
 * stores that need a number write 0.
 */
export interface DerivedMetrics {
  cpuPercent: number | null;
  memoryPercent: number | null;
  memoryUsedBytes: number | null;
  diskPercent: number | null;
  diskUsedBytes: number | null;
  rxBytesPerSec: number | null;
  txBytesPerSec: number | null;
  uptimeSec: number | null;
}

/** A sample as stored or cached: every part may be missing (rows from older agents and servers). */
export type PartialSample = Partial<MetricSample>;

/** The sum of the known values, or null when none is known. */
function sumKnown(values: readonly (number | null | undefined)[], convert: (value: unknown) => number): number | null {
  let total: number | null = null;
  for (const value of values) if (value !== null && value !== undefined) total = (total ?? 0) + convert(value);
  return total;
}

/** See DerivedMetrics for what each number means. Never throws, whatever the payload holds. */
export function deriveMetrics(sample: PartialSample): DerivedMetrics {
  const { cpu, memory, disks, network } = sample;
  const memoryTotal = memory ? storableCount(memory.totalBytes) : 0;
  const memoryUsed = memory ? storableCount(memory.usedBytes) : null;
  let busiest: number | null = null;
  for (const disk of disks ?? []) {
    const size = storableCount(disk.sizeBytes);
    // Pseudo file systems (proc, tmpfs at 0 bytes) have no size and no share.
    if (size > 0) busiest = Math.max(busiest ?? 0, storablePercent((storableCount(disk.usedBytes) / size) * 100));
  }
  const netSum = (pick: (nic: MetricSample['network'][number]) => number | null) =>
    network ? sumKnown(network.map(pick), storableAmount) : null;
  const rx = netSum((nic) => nic.rxBytesPerSec);
  const tx = netSum((nic) => nic.txBytesPerSec);
  return {
    cpuPercent: cpu ? storablePercent(cpu.loadPercent) : null,
    memoryPercent: memoryTotal > 0 && memoryUsed !== null ? storablePercent((memoryUsed / memoryTotal) * 100) : null,
    memoryUsedBytes: memoryUsed,
    diskPercent: busiest,
    diskUsedBytes: disks ? storableCount(sumKnown(disks.map((disk) => disk.usedBytes), storableCount) ?? 0) : null,
    rxBytesPerSec: rx === null ? null : storableAmount(rx),
    txBytesPerSec: tx === null ? null : storableAmount(tx),
    uptimeSec: sample.uptimeSec === undefined ? null : storableAmount(sample.uptimeSec),
  };
}
