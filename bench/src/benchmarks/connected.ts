import { startFleet, loopbackAddresses, untilConnected, type FleetSnapshot } from '../fleet/fleet.ts';
import { maxOf, sumOf, type MetricValues } from '../lib/metrics.ts';
import { loopDelayBetween } from '../lib/loop-delay.ts';
import { type ProcSnapshot, readServerProc } from '../lib/proc.ts';
import { progress, sleep } from '../lib/progress.ts';
import { newestProfile, profileClockUs, summarizeProfile, type ProfileWindow } from '../lib/cpuprofile.ts';
import { longTasks } from '../lib/long-tasks.ts';
import { createFleetToken, REPO_ROOT, withServer, type ServerUnderTest } from '../lib/server-process.ts';
import { Histogram, round } from '../lib/stats.ts';
import { fmt, type Row } from '../lib/table.ts';
import { rm } from 'node:fs/promises';
import type { WorkerConfig } from '../fleet/types.ts';
import { provisionFleet } from '../lib/provision.ts';
import { scratchDatabase } from '../lib/stores.ts';
import { serverWorkers, setting, settingList, type BenchContext, type Benchmark } from './types.ts';
import { scratchDir } from '../lib/scratch.ts';

export const SOURCE_ADDRESSES = 8;
export const ENROLL_ADDRESSES = 32;

/** Runs a fleet against a server until every agent has connected (or failed), then `steadyMs` more. */
export async function runSteadyFleet(server: ServerUnderTest, ctx: BenchContext, opts: {
  agents: number; intervalMs: number; startPeriodMs: number; steadyMs: number; transport?: 'raw' | 'trpc';
  mode?: 'interval' | 'flood'; recordsPerPush?: number; commands?: boolean;
  /** After the last agent connected and before the steady state is measured: the connection storm's wake. */
  warmupMs?: number;
  /** By agent index: provisioned devices connect without enrolling; null entries enroll. */
  credentials?: WorkerConfig['credentials'];
  onSteady?: () => Promise<void> | void;
}) {
  const { token } = await createFleetToken(server, opts.agents);
  const fleet = startFleet({
    agents: opts.agents, serverUrls: server.instances.map((i) => i.url), token, runId: ctx.runId,
    intervalMs: opts.intervalMs, startPeriodMs: opts.startPeriodMs,
    durationMs: opts.startPeriodMs + opts.steadyMs + 15 * 60_000,
    sourceAddresses: loopbackAddresses(SOURCE_ADDRESSES), enrollAddresses: loopbackAddresses(ENROLL_ADDRESSES, 100),
    transport: opts.transport ?? 'raw', mode: opts.mode ?? 'interval', recordsPerPush: opts.recordsPerPush ?? 1,
    heartbeat: true, enrollConcurrency: 16, commands: opts.commands ?? false,
    ...(opts.credentials ? { credentials: opts.credentials } : {}),
  });
  let enrollSec: number;
  try {
    enrollSec = await untilConnected(fleet, opts.agents, opts.startPeriodMs + 20 * 60_000);
  } catch (error) {
    await fleet.stop();
    throw error;
  }
  if (opts.warmupMs) {
    progress(`  all ${fleet.snapshot().connected} connected after ${enrollSec.toFixed(1)} s; warming up for ${opts.warmupMs / 1000} s`);
    await sleep(opts.warmupMs);
  }
  fleet.mark();
  const steadyStarted = performance.now();
  progress(`  all ${fleet.snapshot().connected} connected after ${enrollSec.toFixed(1)} s; steady state for ${opts.steadyMs / 1000} s`);
  await opts.onSteady?.();
  const remaining = opts.steadyMs - (performance.now() - steadyStarted);
  if (remaining > 0) await sleep(remaining);
  return { fleet, enrollSec, steadySec: (performance.now() - steadyStarted) / 1000 };
}

export function fleetFigures(s: FleetSnapshot) {
  return {
    enrolled: s.enrolled, connected: s.connected, enrollFailures: s.enrollFailures, connectFailures: s.connectFailures,
    disconnects: s.disconnects, pushes: s.pushes, records: s.records, pushErrors: s.pushErrors,
    heartbeats: s.heartbeats, heartbeatErrors: s.heartbeatErrors, commandsAnswered: s.commandsAnswered,
    ackLatency: s.ackLatency.summary(), heartbeatLatency: s.heartbeatLatency.summary(), enrollLatency: s.enrollLatency.summary(),
    errors: s.errors, simulatorRssMb: round(s.workerRssBytes / 1024 / 1024, 1),
    simulatorLoopDelay: { p99Ms: round(s.workerLoopDelay.p99Ms, 1), maxMs: round(s.workerLoopDelay.maxMs, 1) },
  };
}

/**
 * Stores holding `provisioned` enrolled devices before the server starts, for fleets bigger than
 * enrollment can fill in a benchmark's time: agents `enrolled..` connect with those credentials,
 * agents `0..enrolled` enroll through `agent.enroll` as usual.
 */
async function withProvisionedStores<T>(ctx: BenchContext, enrolled: number, provisioned: number,
  fn: (target: { dataDir?: string; databaseUrl?: string }, credentials: WorkerConfig['credentials']) => Promise<T>): Promise<T> {
  if (provisioned === 0) return fn({}, undefined);
  const dataDir = await scratchDir('ninjait-bench-connected-');
  const scratch = ctx.stores.databaseUrl ? await scratchDatabase(ctx.stores.databaseUrl) : null;
  try {
    progress(`  provisioning ${provisioned.toLocaleString('en-US')} enrolled devices in the store`);
    const fleet = await provisionFleet({ databaseUrl: scratch?.url, dataDir }, provisioned, ctx.runId);
    return await fn({ dataDir, ...(scratch ? { databaseUrl: scratch.url } : {}) }, [...Array<null>(enrolled).fill(null), ...fleet.credentials]);
  } finally {
    await scratch?.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Ack latency of one agent pushing alone: the unloaded baseline, on the same server. */
async function singleAgentBaseline(server: ServerUnderTest, ctx: BenchContext, pushes: number) {
  if (pushes === 0) return new Histogram().summary();
  const { fleet } = await runSteadyFleet(server, ctx, { agents: 1, intervalMs: 200, startPeriodMs: 0, steadyMs: pushes * 200 });
  const s = await fleet.stop();
  return s.ackLatency.summary();
}

const heapOf = (metrics: MetricValues[]) => metrics.reduce((sum, m) => sum + sumOf(m, 'ninjait_process_nodejs_heap_size_used_bytes'), 0);

async function serverHeap(server: ServerUnderTest) {
  return heapOf(await Promise.all(server.instances.map((_, i) => server.metrics(i))));
}

async function serverRss(server: ServerUnderTest) {
  return server.instances.reduce((sum, i) => sum + (readServerProc(i.pid)?.rssBytes ?? 0), 0);
}

export const connectedBenchmark: Benchmark = {
  name: 'connected',
  summary: 'N agents connected at a 30 s interval: p99 ack latency, server RSS per connection',
  async run(ctx) {
    const levels = settingList(ctx, 'agents', [2_000, 5_000, 10_000], [40]);
    const intervalMs = setting(ctx, 'intervalMs', 30_000, 2_000);
    const steadyMs = setting(ctx, 'steadyMs', 3 * intervalMs, 3 * intervalMs);
    // One interval after the last agent connected, so every agent has pushed on its own schedule
    // once and the steady state measured is not the tail of the connection storm (its first pushes,
    // inventories, the V8 heap growing to its new size). `--set warmupMs=0` measures right away.
    const warmupMs = setting(ctx, 'warmupMs', intervalMs, 0);
    const instances = setting(ctx, 'instances', 1, 1);
    const workers = serverWorkers(ctx);
    const enrollPerSec = setting(ctx, 'enrollPerSec', 250, 100);
    // Enrollment is measured on the first `enrollAgents`; the rest of a bigger fleet is provisioned.
    const enrollAgents = setting(ctx, 'enrollAgents', 2_000, 1_000_000);
    if (instances > 1 && !ctx.stores.databaseUrl) throw new Error('--set instances>1 needs DATABASE_URL (instances share PostgreSQL)');
    const levelsOut: Record<string, unknown>[] = [];
    // The server writes its CPU profile when it exits, so the summary is added after withServer.
    let onServerStopped = async () => {};
    const rows: Row[] = [];
    for (const agents of levels) {
      progress(`connected: ${agents} agents on ${instances} instance(s)`);
      const started = Date.now();
      const enrolling = ctx.sharedServer ? agents : Math.min(agents, enrollAgents);
      await withProvisionedStores(ctx, enrolling, agents - enrolling, (target, credentials) => withServer(ctx, {
        stores: ctx.stores, instances, workers, env: { AGENT_INTERVAL_MS: String(intervalMs) }, ...target,
        ...(ctx.profileDir ? { cpuProfDir: ctx.profileDir } : {}),
      }, async (server) => {
        await sleep(1_000);
        const idleRss = await serverRss(server);
        const idleHeap = await serverHeap(server);
        const baseline = await singleAgentBaseline(server, ctx, setting(ctx, 'baselinePushes', 50, 10));
        let cpuBefore: ProcSnapshot[] = [];
        let metricsBefore: MetricValues[] = [];
        const steadyWindow: ProfileWindow = { startUs: 0, endUs: 0 };
        const { fleet, enrollSec, steadySec } = await runSteadyFleet(server, ctx, {
          agents, intervalMs, startPeriodMs: Math.round((enrolling / enrollPerSec) * 1000), steadyMs, warmupMs, credentials,
          onSteady: async () => {
            steadyWindow.startUs = profileClockUs();
            cpuBefore = server.instances.map((i) => readServerProc(i.pid)!);
            metricsBefore = await Promise.all(server.instances.map((_, i) => server.metrics(i)));
          },
        });
        steadyWindow.endUs = profileClockUs();
        // The first scrape after the window: the loop's max is a gauge of the time since the previous one.
        const metrics = await Promise.all(server.instances.map((_, i) => server.metrics(i)));
        const rss = await serverRss(server);
        const heap = heapOf(metrics);
        const cpuAfter = server.instances.map((i) => readServerProc(i.pid)!);
        const s = await fleet.stop();
        // The worst instance's: a stall there is every one of its sockets' latency.
        const loopDelay = metrics.map((after, i) => loopDelayBetween(metricsBefore[i]!, after)).sort((a, b) => b.p99Ms - a.p99Ms)[0]!;
        const cpuSec = cpuAfter.reduce((sum, after, i) => sum + (after.cpuSec - cpuBefore[i]!.cpuSec), 0);
        const figure = {
          agents, instances, enrolledThroughApi: enrolling, provisioned: agents - enrolling,
          // Until every agent was connected: the enrolling ones through agent.enroll, the provisioned ones straight away.
          enrollSec: round(enrollSec, 1), warmupSec: warmupMs / 1000, steadySec: round(steadySec, 1),
          serverIdleRssMb: round(idleRss / 1024 / 1024, 1), serverRssMb: round(rss / 1024 / 1024, 1),
          serverRssPerConnectionKb: round((rss - idleRss) / 1024 / Math.max(1, s.connected), 1),
          // RSS moves with PGlite's and chdb's native memory; the V8 heap is what sockets and tRPC hold.
          serverHeapPerConnectionKb: round((heap - idleHeap) / 1024 / Math.max(1, s.connected), 1),
          serverConnectedGauge: metrics.reduce((sum, m) => sum + sumOf(m, 'ninjait_connected_agents'), 0),
          serverCpuPercentOfCoreSteady: round((cpuSec / steadySec) * 100, 1),
          eventLoopDelaySteady: loopDelay,
          drainerLagSecondsMax: Math.max(...metrics.map((m) => maxOf(m, 'ninjait_drainer_lag_seconds'))),
          baselineSingleAgent: baseline,
          fleet: fleetFigures(s),
        };
        levelsOut.push(figure);
        onServerStopped = async () => {
          const profile = ctx.profileDir ? await newestProfile(ctx.profileDir, started) : null;
          // What held the event loop in the steady state: the stalls behind ack p99, by cause.
          if (profile) Object.assign(figure, { profile: await summarizeProfile(profile, REPO_ROOT), longTasksSteady: await longTasks(profile, REPO_ROOT, { window: steadyWindow }) });
        };
        const ack = s.ackLatency.summary();
        rows.push(
          { benchmark: 'connected', figure: `${agents} agents: connected (${enrolling} enrolled, in ${fmt(enrollSec, 's', 0)})`, value: `${s.connected} of ${agents}`, baseline: '-', goal: '50,000 on one server' },
          { benchmark: 'connected', figure: `${agents} agents: ack p50 / p99`, value: `${fmt(ack.p50Ms, 'ms')} / ${fmt(ack.p99Ms, 'ms')}`, baseline: `1 agent: ${fmt(baseline.p50Ms, 'ms')} / ${fmt(baseline.p99Ms, 'ms')}`, goal: 'p99 < 100 ms' },
          { benchmark: 'connected', figure: `${agents} agents: event-loop delay p99 / max, steady`, value: `${fmt(loopDelay.p99Ms, 'ms')} / ${fmt(loopDelay.maxMs, 'ms')}`, baseline: `p50 ${fmt(loopDelay.p50Ms, 'ms')}; the simulator's worst worker p99 / max ${fmt(s.workerLoopDelay.p99Ms, 'ms')} / ${fmt(s.workerLoopDelay.maxMs, 'ms')}`, goal: 'below ack p99' },
          { benchmark: 'connected', figure: `${agents} agents: server RSS · V8 heap per connection`, value: `${fmt(figure.serverRssPerConnectionKb, 'KB')} · ${fmt(figure.serverHeapPerConnectionKb, 'KB')}`, baseline: `idle server ${fmt(figure.serverIdleRssMb, 'MB')} RSS`, goal: '-' },
          { benchmark: 'connected', figure: `${agents} agents: server CPU, steady`, value: fmt(figure.serverCpuPercentOfCoreSteady, '% of a core'), baseline: '-', goal: '-' },
        );
      }));
      await onServerStopped();
    }
    return { config: { levels, intervalMs, warmupMs, steadyMs, instances, workers, enrollPerSec, transport: 'raw' }, figures: { levels: levelsOut }, rows };
  },
};
