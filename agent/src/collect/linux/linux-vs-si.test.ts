import { describe, expect, it } from 'vitest';
import { createSystemInformationParts } from '../si-parts.ts';
import { createProcParts } from './index.ts';

const linux = process.platform === 'linux';
if (!linux) console.log(`linux-vs-si: skipped, /proc is Linux's and this is ${process.platform}`);

/** The kernel's files and systeminformation, read on this machine at nearly the same moment. */
describe.skipIf(!linux)('parts read from /proc agree with systeminformation', () => {
  const si = createSystemInformationParts();

  // Other suites start and stop servers beside this one: what is available moves between the two reads.
  it('memory: the same totals, available within 5 % of memory', { timeout: 30_000 }, async () => {
    const [proc, reference] = [await createProcParts().memory(), await si.memory()];
    expect(proc.totalBytes).toBe(reference.totalBytes);
    expect(proc.swapTotalBytes).toBe(reference.swapTotalBytes);
    expect(Math.abs(proc.availableBytes - reference.availableBytes)).toBeLessThan(proc.totalBytes * 0.05);
    expect(Math.abs(proc.swapUsedBytes - reference.swapUsedBytes)).toBeLessThanOrEqual(proc.swapTotalBytes * 0.02);
  });

  it('disks: the same mounts, sizes and file systems, used within 1 % of the size', { timeout: 30_000 }, async () => {
    const [proc, reference] = [await createProcParts().disks(), await si.disks()];
    expect(proc.length).toBeGreaterThan(0);
    const key = (d: { mount: string; fs: string; type: string }) => `${d.mount} ${d.fs} ${d.type}`;
    expect(proc.map(key).sort()).toEqual(reference.map(key).sort());
    for (const disk of proc) {
      const other = reference.find((d) => key(d) === key(disk))!;
      expect(disk.sizeBytes).toBe(other.sizeBytes);
      expect(Math.abs(disk.usedBytes - other.usedBytes)).toBeLessThan(disk.sizeBytes * 0.01);
    }
  });

  it('network: the same interfaces, and systeminformation counters between two /proc readings', { timeout: 30_000 }, async () => {
    const parts = createProcParts();
    const before = await parts.network();
    const reference = await si.network();
    const after = await parts.network();
    expect(before.map((n) => n.iface).sort()).toEqual(reference.map((n) => n.iface).sort());
    for (const n of reference) {
      const [b, a] = [before.find((x) => x.iface === n.iface)!, after.find((x) => x.iface === n.iface)!];
      for (const field of ['rxBytes', 'txBytes', 'rxErrors', 'txErrors'] as const) {
        expect(n[field]).toBeGreaterThanOrEqual(b[field]);
        expect(n[field]).toBeLessThanOrEqual(a[field]);
      }
    }
    expect(after.every((n) => n.rxBytesPerSec !== null && n.txBytesPerSec !== null)).toBe(true);
  });

  // The two windows start a call apart: a loaded run's bursts fall into one and not the other.
  it('cpu: as many cores, and load over the same two seconds within 25 points', async () => {
    const parts = createProcParts();
    await Promise.all([parts.cpu(), si.cpu()]);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const [proc, reference] = [await parts.cpu(), await si.cpu()];
    expect(proc.perCorePercent.length).toBe(reference.perCorePercent.length);
    expect(Math.abs(proc.loadPercent - reference.loadPercent)).toBeLessThanOrEqual(25);
  }, 30_000);
});
