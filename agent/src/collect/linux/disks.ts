import { statfs } from 'node:fs/promises';
import type { MetricSample } from '@ninjait/shared';
import { toBytes, toText } from '../num.ts';
import { listedMounts, parseMountinfo } from './mounts.ts';

type Statfs = (path: string) => Promise<{ blocks: number; bfree: number; bsize: number }>;

/**
 * Size and use of the listed mounts (see `listedMounts`), one statfs(2) each: size is blocks ×
 * block size, used is the blocks not free, as df counts them. A mount whose statfs is still
 * pending from an earlier reading (a dead network share hangs it) is skipped rather than asked
 * again, so a hung mount holds one thread-pool thread, not one more every interval.
 */
export function createDiskUsage(statfsOf: Statfs = statfs): (mountinfo: string) => Promise<MetricSample['disks']> {
  const pending = new Set<string>();
  const usage = async (mount: string) => {
    if (pending.has(mount)) return null;
    pending.add(mount);
    try {
      return await statfsOf(mount);
    } catch {
      return null; // gone or not ours to read: df leaves it out too
    } finally {
      pending.delete(mount);
    }
  };
  return async (mountinfo) => {
    const mounts = listedMounts(parseMountinfo(mountinfo)).slice(0, 256);
    const stats = await Promise.all(mounts.map((m) => usage(m.mount)));
    return mounts.flatMap((m, i) => {
      const s = stats[i];
      if (!s || !(s.blocks > 0)) return [];
      return [{
        mount: toText(m.mount, 512), fs: toText(m.source, 512), type: toText(m.type, 64),
        sizeBytes: toBytes(s.blocks * s.bsize), usedBytes: toBytes((s.blocks - s.bfree) * s.bsize),
      }];
    });
  };
}
