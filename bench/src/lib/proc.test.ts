import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { cpuSecOf, growthBetween, readByPidOfCommandLines, runQueueWaitMs } from './proc.ts';

describe('CPU between two readings by pid', () => {
  it('never subtracts a process that exited or whose pid a newer one took, and counts one that started whole', () => {
    const before = new Map([[10, 5], [11, 2], [12, 9]]);
    // 10 spent 1.5 s more; 11 exited (its time since is lost, not subtracted); 12's pid went to a
    // newer process with less time than the old one had (counted as nothing: a lower bound); 13 is new.
    const after = new Map([[10, 6.5], [12, 0.25], [13, 0.75]]);
    expect(growthBetween(before, after)).toBeCloseTo(1.5 + 0 + 0.75);
    expect(growthBetween(new Map(), new Map())).toBe(0);
  });

  it('reads the processes whose command line matches, and only them', async () => {
    const marker = `ninjait-proc-test-${process.pid}-${Date.now()}`;
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30_000)', marker], { stdio: 'ignore' });
    try {
      await once(child, 'spawn');
      const found = readByPidOfCommandLines((line) => line.includes(marker), cpuSecOf);
      expect([...found.keys()]).toEqual([child.pid]);
      expect(found.get(child.pid!)).toBeGreaterThanOrEqual(0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('reads how long a process waited for a CPU, and nothing for one that is gone', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30_000)'], { stdio: 'ignore' });
    await once(child, 'spawn');
    const waited = runQueueWaitMs(child.pid!);
    child.kill('SIGKILL');
    await once(child, 'exit');
    if (process.platform === 'linux') expect(waited).toBeGreaterThanOrEqual(0);
    expect(runQueueWaitMs(child.pid!)).toBeNull();
  });
});
