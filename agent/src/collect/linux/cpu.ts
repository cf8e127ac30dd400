import type { MetricSample } from '@ninjait/shared';
import { toPercent } from '../num.ts';

/** Busy and total jiffies of one CPU line of /proc/stat. */
export interface CpuTicks {
  busy: number;
  total: number;
}

/**
 * The `cpu` (all CPUs) and `cpuN` lines of /proc/stat, in order, as busy and total ticks.
 * Fields: user nice system idle iowait irq softirq steal guest guest_nice. Busy is user + nice +
 * system + irq + softirq + steal; idle and iowait are idle. guest and guest_nice are left out
 * because the kernel already counts them in user and nice.
 */
export function parseProcStat(text: string): { all: CpuTicks; cores: CpuTicks[] } {
  let all: CpuTicks | null = null;
  const cores: CpuTicks[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('cpu')) continue;
    const fields = line.split(/\s+/);
    const n = (i: number) => {
      const value = Number(fields[i] ?? 0);
      return Number.isFinite(value) && value > 0 ? value : 0;
    };
    const idle = n(4) + n(5);
    const busy = n(1) + n(2) + n(3) + n(6) + n(7) + n(8);
    if (fields[0] === 'cpu') all = { busy, total: busy + idle };
    else cores.push({ busy, total: busy + idle });
  }
  if (!all) throw new Error('/proc/stat has no cpu line');
  return { all, cores };
}

/** Percent busy between two readings; 0 when no time passed (or the counters went back). */
function busyPercent(now: CpuTicks, before: CpuTicks | undefined): number {
  const total = now.total - (before?.total ?? 0);
  const busy = now.busy - (before?.busy ?? 0);
  return total > 0 && busy >= 0 ? toPercent((busy / total) * 100) : 0;
}

/**
 * CPU load since the previous reading, from /proc/stat text. The first reading is the average
 * since boot (there is no earlier one). When CPUs come or go, the cores are matched by position
 * and a core with no previous reading also reports its average since boot.
 */
export function createCpuLoad(): (procStat: string) => MetricSample['cpu'] {
  let previous: { all: CpuTicks; cores: CpuTicks[] } | null = null;
  return (procStat) => {
    const now = parseProcStat(procStat);
    const load = {
      loadPercent: busyPercent(now.all, previous?.all),
      perCorePercent: now.cores.slice(0, 1024).map((core, i) => busyPercent(core, previous?.cores[i])),
    };
    previous = now;
    return load;
  };
}
