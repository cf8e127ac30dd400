import { fork, type ChildProcess } from 'node:child_process';
import { setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import { progress, waitFor } from '../lib/progress.ts';
import { Histogram } from '../lib/stats.ts';
import type { FromWorker, ToWorker, WorkerConfig, WorkerCounters, WorkerReport } from './types.ts';

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));
/** Sockets per worker process, well under the 20,000 open files each process may hold. */
export const MAX_AGENTS_PER_WORKER = 15_000;

export interface FleetOptions extends Omit<WorkerConfig, 'firstIndex' | 'count'> {
  agents: number;
  /** Worker processes; default: enough for MAX_AGENTS_PER_WORKER, at least one per 5,000 agents. */
  workers?: number;
  /**
   * The workers' nice value (0-19). Real agents run on other machines: at a positive value the
   * simulator takes only the CPU the server, its stores and the real agents leave, instead of
   * competing with the system under test for the same two cores.
   */
  nice?: number;
}

/** Totals over every worker, as of their latest reports. */
export interface FleetSnapshot extends WorkerCounters {
  ackLatency: Histogram;
  heartbeatLatency: Histogram;
  enrollLatency: Histogram;
  errors: Record<string, { count: number; example: string }>;
  workerRssBytes: number;
  workerCpuSec: number;
  /** The simulator's own event-loop delay, its worst worker's: latencies are timed on these loops. */
  workerLoopDelay: { p99Ms: number; maxMs: number };
}

/** `count` loopback source addresses from 127.0.0.<first>. */
export function loopbackAddresses(count: number, first = 2): string[] {
  return Array.from({ length: count }, (_, i) => {
    const n = first - 1 + i;
    return `127.0.${Math.floor(n / 254) % 256}.${(n % 254) + 1}`;
  });
}

/** A simulated fleet spread over worker processes; stops itself after `durationMs`. */
export function startFleet(options: FleetOptions) {
  const workerCount = options.workers ?? Math.max(1, Math.ceil(options.agents / 5_000), Math.ceil(options.agents / MAX_AGENTS_PER_WORKER));
  const reports = new Map<number, WorkerReport>();
  const children: ChildProcess[] = [];
  const exits: Promise<void>[] = [];
  const per = Math.ceil(options.agents / workerCount);
  for (let w = 0; w < workerCount; w++) {
    const firstIndex = w * per;
    const count = Math.max(0, Math.min(per, options.agents - firstIndex));
    if (count === 0) break;
    const child = fork(WORKER, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    if (options.nice && child.pid !== undefined) setPriority(child.pid, Math.min(19, Math.max(0, options.nice)));
    child.on('message', (message: FromWorker) => {
      if (message.type === 'report') reports.set(message.report.worker, message.report);
    });
    exits.push(new Promise((resolve) => child.once('exit', () => resolve())));
    const { agents: _agents, workers: _workers, nice: _nice, ...shared } = options;
    const start: ToWorker = { type: 'start', worker: w, config: { ...shared, firstIndex, count } };
    child.send(start);
    children.push(child);
  }

  const snapshot = (): FleetSnapshot => {
    const total: FleetSnapshot = {
      enrolled: 0, connected: 0, enrollFailures: 0, connectFailures: 0, disconnects: 0, pushes: 0, records: 0,
      pushErrors: 0, heartbeats: 0, heartbeatErrors: 0, commandsAnswered: 0,
      ackLatency: new Histogram(), heartbeatLatency: new Histogram(), enrollLatency: new Histogram(), errors: {},
      workerRssBytes: 0, workerCpuSec: 0, workerLoopDelay: { p99Ms: 0, maxMs: 0 },
    };
    for (const r of reports.values()) {
      for (const key of ['enrolled', 'connected', 'enrollFailures', 'connectFailures', 'disconnects', 'pushes', 'records',
        'pushErrors', 'heartbeats', 'heartbeatErrors', 'commandsAnswered'] as const) total[key] += r[key];
      total.ackLatency.merge(r.ackLatency);
      total.heartbeatLatency.merge(r.heartbeatLatency);
      total.enrollLatency.merge(r.enrollLatency);
      total.workerRssBytes += r.rssBytes;
      total.workerCpuSec += r.cpuSec;
      total.workerLoopDelay = {
        p99Ms: Math.max(total.workerLoopDelay.p99Ms, r.loopDelay.p99Ms), maxMs: Math.max(total.workerLoopDelay.maxMs, r.loopDelay.maxMs),
      };
      for (const [key, e] of Object.entries(r.errors)) {
        const entry = (total.errors[key] ??= { count: 0, example: e.example });
        entry.count += e.count;
      }
    }
    return total;
  };

  const send = (message: ToWorker) => {
    for (const child of children) if (child.connected) child.send(message);
  };
  return {
    workers: children.length,
    pids: children.map((child) => child.pid!),
    snapshot,
    /** Resets latencies and counters in every worker: steady state starts now. */
    mark: () => send({ type: 'mark' }),
    /** Asks every worker to stop and waits for their final reports. */
    async stop(): Promise<FleetSnapshot> {
      send({ type: 'stop' });
      await Promise.all(exits);
      return snapshot();
    },
    /** Resolves when every worker has exited by itself (its duration elapsed). */
    finished: () => Promise.all(exits).then(snapshot),
  };
}
export type Fleet = ReturnType<typeof startFleet>;

/** Waits until every agent has connected (or failed), showing progress every 5 s; returns how many seconds it took. */
export async function untilConnected(fleet: Fleet, agents: number, timeoutMs: number): Promise<number> {
  const started = performance.now();
  let lastLog = 0;
  await waitFor(`${agents} agents to connect`, () => {
    const s = fleet.snapshot();
    if (performance.now() - lastLog > 5_000) {
      lastLog = performance.now();
      progress(`  enrolled ${s.enrolled}/${agents}, connected ${s.connected}, failures ${s.enrollFailures + s.connectFailures}`);
    }
    return s.connected + s.enrollFailures + s.connectFailures >= agents;
  }, timeoutMs, 250);
  return (performance.now() - started) / 1000;
}
