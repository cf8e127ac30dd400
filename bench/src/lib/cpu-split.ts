import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

/**
 * BENCH_SERVER_CPUS: the CPUs (a taskset list, e.g. "0") the servers under test run on, while
 * this process and everything it starts besides them (the simulated fleet, real agents, the CLI)
 * run on the others.
 *
 * Why: on a two-core machine the simulator of 10,000 agents, the real agents and the benchmark's
 * own clients compete with the server for the same cores, where in a deployment the endpoints
 * are other machines. A latency tail measured that way is partly the scheduler's. The split
 * shows how much, side by side with a run without it. PostgreSQL and Redis are the machine's
 * services and are left where they are.
 */
export interface CpuSplit { server: string; others: string }

let split: CpuSplit | null | undefined;

/** The split asked for, checked once; null when none was. Throws a message naming the variable. */
export function cpuSplit(): CpuSplit | null {
  if (split !== undefined) return split;
  const asked = process.env.BENCH_SERVER_CPUS?.trim();
  if (!asked) return (split = null);
  if (process.platform !== 'linux') throw new Error('BENCH_SERVER_CPUS needs Linux (taskset)');
  const count = availableParallelism();
  const server = parseCpuList(asked, count);
  const others = [...Array(count).keys()].filter((cpu) => !server.includes(cpu));
  if (others.length === 0) throw new Error(`BENCH_SERVER_CPUS=${asked} leaves no CPU for the rest (this machine has ${count})`);
  split = { server: server.join(','), others: others.join(',') };
  // Every thread of this process, so that what it starts from now on inherits the other CPUs.
  execFileSync('taskset', ['--all-tasks', '--cpu-list', '--pid', split.others, String(process.pid)], { stdio: 'ignore' });
  return split;
}

/** "0", "0,2" or "0-1" into CPU numbers, each below `count`. */
export function parseCpuList(list: string, count: number): number[] {
  const cpus = new Set<number>();
  for (const part of list.split(',')) {
    const range = /^(\d{1,4})(?:-(\d{1,4}))?$/.exec(part.trim());
    if (!range) throw new Error(`BENCH_SERVER_CPUS: "${part}" is not a CPU number or range (e.g. 0 or 0-1)`);
    const from = Number(range[1]);
    const to = range[2] === undefined ? from : Number(range[2]);
    if (to < from || to >= count) throw new Error(`BENCH_SERVER_CPUS: "${part}" is outside this machine's CPUs 0-${count - 1}`);
    for (let cpu = from; cpu <= to; cpu++) cpus.add(cpu);
  }
  return [...cpus].sort((a, b) => a - b);
}

/** The command and arguments that start `command args` on the server's CPUs (unchanged without a split). */
export function onServerCpus(command: string, args: string[]): { command: string; args: string[] } {
  const s = cpuSplit();
  return s ? { command: 'taskset', args: ['--cpu-list', s.server, command, ...args] } : { command, args };
}
