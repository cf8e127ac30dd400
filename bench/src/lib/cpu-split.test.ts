import { describe, expect, it } from 'vitest';
import { parseCpuList } from './cpu-split.ts';

describe('BENCH_SERVER_CPUS lists', () => {
  it('reads numbers and ranges, once each, in order', () => {
    expect(parseCpuList('0', 2)).toEqual([0]);
    expect(parseCpuList('3,0-1,1', 4)).toEqual([0, 1, 3]);
  });

  it('refuses what is not a CPU of this machine, naming the variable', () => {
    for (const bad of ['', 'a', '-1', '1-0', '2', '0-2', '0;1', '1 2']) {
      expect(() => parseCpuList(bad, 2), bad).toThrow(/BENCH_SERVER_CPUS/);
    }
  });
});
