import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { metricSampleSchema } from '@ninjait/shared';
import { tempDir } from '../../testing/temp.ts';
import { createCpuLoad, parseProcStat } from './cpu.ts';
import { createDiskUsage } from './disks.ts';
import { createProcParts } from './index.ts';
import { memoryFromMeminfo } from './memory.ts';
import { listedMounts, parseMountinfo, type MountEntry } from './mounts.ts';
import { createNetworkRates, parseNetDev } from './network.ts';
import { createProcFileReader } from './proc-file.ts';

const fixtures = join(import.meta.dirname, 'fixtures');
const files = createProcFileReader();
const fixture = (name: string) => files.read(join(fixtures, 'proc', name));
const statLine = (user: number, system: number, idle: number, iowait = 0, softirq = 0, steal = 0) =>
  `cpu ${user} 0 ${system} ${idle} ${iowait} 0 ${softirq} ${steal} 0 0\ncpu0 ${user} 0 ${system} ${idle} ${iowait} 0 ${softirq} ${steal} 0 0\n`;

describe('/proc/stat', () => {
  it('reads busy and total ticks of all CPUs and of each, iowait as idle, guest not twice', () => {
    const { all, cores } = parseProcStat(fixture('stat'));
    expect(all).toEqual({ busy: 30293 + 12078 + 412, total: 30293 + 12078 + 412 + 54932 + 434 });
    expect(cores).toEqual([{ busy: 14371 + 5454 + 151, total: 14371 + 5454 + 151 + 29012 + 36 }, { busy: 15922 + 6624 + 261, total: 15922 + 6624 + 261 + 25920 + 398 }]);
    expect(parseProcStat('cpu  1 2 3 4 5 6 7 8 100 100\n').all).toEqual({ busy: 1 + 2 + 3 + 6 + 7 + 8, total: 1 + 2 + 3 + 6 + 7 + 8 + 4 + 5 });
    expect(() => parseProcStat('intr 1 2 3\n')).toThrow(/no cpu line/);
  });

  it('loads are since boot at first, then since the previous reading', () => {
    const load = createCpuLoad();
    expect(load(statLine(100, 100, 800)).loadPercent).toBeCloseTo(20);
    const next = load(statLine(100 + 30, 100 + 10, 800 + 50, 5, 5, 0));
    expect(next.loadPercent).toBeCloseTo((45 / 100) * 100);
    expect(next.perCorePercent).toEqual([next.loadPercent]);
    expect(load(statLine(130, 110, 855, 5, 5, 0)).loadPercent).toBe(0); // no time passed
  });
});

describe('/proc/meminfo', () => {
  it('used is total minus MemAvailable; swap used is total minus free', () => {
    expect(memoryFromMeminfo(fixture('meminfo'))).toEqual({
      totalBytes: 24683756 * 1024, availableBytes: 16713220 * 1024, usedBytes: (24683756 - 16713220) * 1024,
      swapTotalBytes: 2097148 * 1024, swapUsedBytes: (2097148 - 1572860) * 1024,
    });
  });
  it('estimates available on kernels without MemAvailable, and refuses a file with no total', () => {
    const old = 'MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 10 kB\nCached: 200 kB\nSReclaimable: 40 kB\n';
    expect(memoryFromMeminfo(old)).toMatchObject({ availableBytes: 350 * 1024, usedBytes: 650 * 1024, swapTotalBytes: 0, swapUsedBytes: 0 });
    expect(() => memoryFromMeminfo('MemFree: 1 kB\n')).toThrow(/MemTotal/);
  });
});

describe('/proc/net/dev', () => {
  it('reads bytes and errors of every interface, long names glued to their counters included', () => {
    expect(parseNetDev(fixture('net/dev'))).toEqual([
      { iface: 'lo', rxBytes: 8158741, txBytes: 8158741, rxErrors: 0, txErrors: 0 },
      { iface: 'ifb0', rxBytes: 0, txBytes: 0, rxErrors: 0, txErrors: 0 },
      { iface: 'eth0', rxBytes: 411986847, txBytes: 1054615, rxErrors: 3, txErrors: 7 },
      { iface: 'veth1a2b3c4d', rxBytes: 12345678901234, txBytes: 42, rxErrors: 0, txErrors: 0 },
    ]);
  });

  it('rates from the second reading, none after a counter went back, only the chosen interfaces', () => {
    const rates = createNetworkRates();
    const dev = (rx: number, tx: number) => `Inter-|\n face |\n  eth0: ${rx} 1 0 0 0 0 0 0 ${tx} 1 0 0 0 0 0 0\n  lo: 5 1 0 0 0 0 0 0 5 1 0 0 0 0 0 0\n`;
    const eth0 = (iface: string) => iface === 'eth0';
    expect(rates(dev(1000, 500), 0, eth0)).toMatchObject([{ iface: 'eth0', rxBytesPerSec: null, txBytesPerSec: null }]);
    expect(rates(dev(3000, 1500), 2000, eth0)).toMatchObject([{ rxBytes: 3000, rxBytesPerSec: 1000, txBytesPerSec: 500 }]);
    expect(rates(dev(100, 1600), 3000, eth0)).toMatchObject([{ rxBytesPerSec: null, txBytesPerSec: 100 }]);
    expect(rates(dev(100, 1600), 4000, () => true).map((n) => n.iface)).toEqual(['eth0', 'lo']);
  });
});

describe('/proc/self/mountinfo', () => {
  it('lists what df -x squashfs and systeminformation keep: no pseudo, temporary or snap file systems, one row per device', () => {
    const listed = listedMounts(parseMountinfo(fixture('self/mountinfo')));
    expect(listed.map((m) => [m.mount, m.type, m.source])).toEqual([
      ['/', 'ext4', '/dev/vda'],
      ['/sys/fs/cgroup', 'cgroup2', 'cgroup2'], // no blocks: statfs drops it, as df does
      ['/srv/my data', 'xfs', '/dev/vdb1'],
      ['/mnt/share', 'nfs4', 'server:/export'],
      ['/var/lib/docker/overlay2/x/merged', 'overlay', 'overlay'],
      ['/proc/sys/fs/binfmt_misc', 'binfmt_misc', 'binfmt_misc'],
    ]);
  });

  it('keeps the mount of a device nearest the root, whichever comes first', () => {
    const entry = (mount: string, root: string, source = '/dev/sda1'): MountEntry => ({ device: '8:1', root, mount, type: 'ext4', source });
    expect(listedMounts([entry('/etc/hosts', '/x/hosts'), entry('/', '/')]).map((m) => m.mount)).toEqual(['/']);
    expect(listedMounts([entry('/', '/'), entry('/etc/hosts', '/x/hosts')]).map((m) => m.mount)).toEqual(['/']);
    // A later mount over the same folder hides the earlier one.
    expect(listedMounts([entry('/data', '/', '/dev/sdb1'), { ...entry('/data', '/', '/dev/sdc1') }]).map((m) => m.source)).toEqual(['/dev/sdc1']);
  });
});

describe('disk usage', () => {
  const mountinfo = '26 1 254:0 / / rw - ext4 /dev/vda rw\n33 26 254:16 / /srv rw - xfs /dev/vdb1 rw\n30 26 0:26 / /cg rw - cgroup2 cgroup2 rw\n';
  it('size and used from statfs blocks, leaving out empty and unreadable mounts', async () => {
    const usage = createDiskUsage(async (path) => {
      if (path === '/srv') throw new Error('EACCES');
      return path === '/' ? { blocks: 1000, bfree: 250, bsize: 4096 } : { blocks: 0, bfree: 0, bsize: 4096 };
    });
    expect(await usage(mountinfo)).toEqual([{ mount: '/', fs: '/dev/vda', type: 'ext4', sizeBytes: 1000 * 4096, usedBytes: 750 * 4096 }]);
  });

  it('does not ask a hung mount again while its statfs is pending', async () => {
    const asked: string[] = [];
    const usage = createDiskUsage((path) => {
      asked.push(path);
      return path === '/srv' ? new Promise(() => {}) : Promise.resolve({ blocks: 10, bfree: 5, bsize: 1024 });
    });
    void usage(mountinfo);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect((await usage(mountinfo)).map((d) => d.mount)).toEqual(['/', '/cg']);
    expect(asked.filter((path) => path === '/srv')).toHaveLength(1);
  });
});

describe('proc file reader', () => {
  it('reads a file larger than its buffer whole, and a smaller one after it', () => {
    const { dir, cleanup } = tempDir();
    try {
      const big = 'x'.repeat(100_000) + '\n';
      writeFileSync(join(dir, 'big'), big);
      writeFileSync(join(dir, 'small'), 'cpu 1 2 3\n');
      const reader = createProcFileReader(1024);
      expect(reader.read(join(dir, 'big'))).toBe(big);
      expect(reader.read(join(dir, 'small'))).toBe('cpu 1 2 3\n');
      expect(() => reader.read(join(dir, 'missing'))).toThrow(/ENOENT/);
    } finally {
      cleanup();
    }
  });

  it('reads a kernel file past its first page', () => {
    const text = createProcFileReader(64).read('/proc/self/status');
    expect(text).toMatch(/^Name:/);
    expect(text).toMatch(/\nVmRSS:/);
  });
});

describe('the parts read from a /proc tree', () => {
  it('give a sample the schema accepts', async () => {
    const parts = createProcParts({
      root: fixtures, interfaceNames: () => ['eth0', 'lo'],
      statfs: async (path) => (path === '/' ? { blocks: 100, bfree: 40, bsize: 4096 } : { blocks: 0, bfree: 0, bsize: 4096 }),
    });
    const sample = { cpu: await parts.cpu(), memory: await parts.memory(), disks: await parts.disks(), network: await parts.network(), uptimeSec: 1 };
    expect(metricSampleSchema.parse(sample)).toEqual(sample);
    expect(sample.cpu.perCorePercent).toHaveLength(2);
    expect(sample.disks).toEqual([{ mount: '/', fs: '/dev/vda', type: 'ext4', sizeBytes: 409600, usedBytes: 245760 }]);
    expect(sample.network.map((n) => n.iface)).toEqual(['lo', 'eth0']);
  });
});
