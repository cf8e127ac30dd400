/**
 * A fleet worker process: simulates its share of the agents and reports to the coordinator
 * over IPC every second. Several workers keep each process under the 20,000 open files limit.
 */
import { Agent } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { readProc } from '../lib/proc.ts';
import { Histogram } from '../lib/stats.ts';
import { SimAgent, type AgentEvents } from './sim-agent.ts';
import type { FromWorker, ToWorker, WorkerConfig, WorkerCounters, WorkerReport } from './types.ts';

const REPORT_EVERY_MS = 1_000;
const ERROR_EXAMPLE_CHARS = 200;

function runWorker(worker: number, config: WorkerConfig) {
  const counters: WorkerCounters = {
    enrolled: 0, connected: 0, enrollFailures: 0, connectFailures: 0, disconnects: 0,
    pushes: 0, records: 0, pushErrors: 0, heartbeats: 0, heartbeatErrors: 0, commandsAnswered: 0,
  };
  let ackLatency = new Histogram();
  let heartbeatLatency = new Histogram();
  const enrollLatency = new Histogram();
  const errors: WorkerReport['errors'] = {};
  const events: AgentEvents = {
    enrolled: (ms) => {
      counters.enrolled++;
      enrollLatency.record(ms);
    },
    connected: () => counters.connected++,
    disconnected: () => {
      counters.connected--;
      counters.disconnects++;
    },
    pushed: (ms, records) => {
      counters.pushes++;
      counters.records += records;
      ackLatency.record(ms);
    },
    heartbeat: (ms) => {
      counters.heartbeats++;
      heartbeatLatency.record(ms);
    },
    commandAnswered: () => counters.commandsAnswered++,
    error: (code, message, kind) => {
      if (kind === 'enroll') counters.enrollFailures++;
      if (kind === 'connect') counters.connectFailures++;
      if (kind === 'push') counters.pushErrors++;
      if (kind === 'heartbeat') counters.heartbeatErrors++;
      const key = `${kind}:${code}`;
      const entry = (errors[key] ??= { count: 0, example: message.slice(0, ERROR_EXAMPLE_CHARS) });
      entry.count++;
    },
  };

  const enrollAgents = config.enrollAddresses.map(() => new Agent({ keepAlive: true, maxSockets: 8 }));
  const agents: SimAgent[] = [];
  const timers: NodeJS.Timeout[] = [];
  let enrolling = 0;
  const queue: SimAgent[] = [];
  const pump = () => {
    while (enrolling < config.enrollConcurrency && queue.length > 0) {
      const agent = queue.shift()!;
      enrolling++;
      void agent.start().finally(() => {
        enrolling--;
        pump();
      });
    }
  };
  for (let i = 0; i < config.count; i++) {
    const index = config.firstIndex + i;
    const agent = new SimAgent(index, config, events, enrollAgents[index % enrollAgents.length]!);
    agents.push(agent);
    const at = config.count > 1 ? (i / config.count) * config.startPeriodMs : 0;
    timers.push(setTimeout(() => {
      queue.push(agent);
      pump();
    }, at));
  }

  // The simulator's own stalls: an ack that arrives while this loop is busy is timed late, so a
  // figure is the server's only when this stays well below it.
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const report = (final: boolean) => {
    const proc = readProc(process.pid);
    const message: FromWorker = {
      type: 'report',
      report: {
        worker, pid: process.pid, final, ...counters, errors,
        ackLatency: ackLatency.toJSON(), heartbeatLatency: heartbeatLatency.toJSON(), enrollLatency: enrollLatency.toJSON(),
        rssBytes: proc?.rssBytes ?? 0, cpuSec: proc?.cpuSec ?? 0,
        loopDelay: { p99Ms: loop.percentile(99) / 1e6, maxMs: loop.max / 1e6 },
      },
    };
    process.send!(message);
  };
  const reporter = setInterval(() => report(false), REPORT_EVERY_MS);

  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    clearInterval(reporter);
    timers.forEach(clearTimeout);
    queue.length = 0;
    for (const agent of agents) agent.stop();
    enrollAgents.forEach((agent) => agent.destroy());
    report(true);
    // Let the IPC message flush, then leave.
    setTimeout(() => process.exit(0), 200);
  };
  const lifetime = setTimeout(stop, config.durationMs);
  return {
    stop,
    /** Steady state starts now: forget latencies from the enrollment storm; flooding agents start. */
    mark() {
      ackLatency = new Histogram();
      heartbeatLatency = new Histogram();
      counters.pushes = 0;
      counters.records = 0;
      counters.heartbeats = 0;
      loop.reset();
      if (config.mode === 'flood') for (const agent of agents) void agent.startFlood();
    },
    lifetime,
  };
}

let running: ReturnType<typeof runWorker> | null = null;
process.on('message', (message: ToWorker) => {
  if (message.type === 'start') running = runWorker(message.worker, message.config);
  else if (message.type === 'mark') running?.mark();
  else if (message.type === 'stop') running?.stop();
});
// The coordinator died: do not linger holding sockets.
process.on('disconnect', () => process.exit(0));
