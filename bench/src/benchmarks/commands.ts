import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { loopbackAddresses, startFleet, untilConnected, type Fleet } from '../fleet/fleet.ts';
import { connectRaw, type AgentTransport } from '../fleet/transport.ts';
import { enrollAgent, exited, spawnAgent, stopProcess } from '../lib/agent-process.ts';
import { newestProfile, profileClockUs, summarizeProfile, type ProfileWindow } from '../lib/cpuprofile.ts';
import { longTasks } from '../lib/long-tasks.ts';
import { loginAs } from '../lib/people.ts';
import { progress, sleep, waitFor } from '../lib/progress.ts';
import { provisionFleet } from '../lib/provision.ts';
import { createFleetToken, REPO_ROOT, startServerUnderTest, type ServerUnderTest } from '../lib/server-process.ts';
import { Histogram } from '../lib/stats.ts';
import { seriesOf, type MetricValues } from '../lib/metrics.ts';
import { scratchDatabase } from '../lib/stores.ts';
import { fmt, type Row } from '../lib/table.ts';
import { ENROLL_ADDRESSES, fleetFigures, SOURCE_ADDRESSES } from './connected.ts';
import { serverWorkers, setting, settingList, type BenchContext, type Benchmark } from './types.ts';
import { scratchDir } from '../lib/scratch.ts';
import { cpuSecOf, growthBetween, readByPidOfCommandLines, readServerProc } from '../lib/proc.ts';

/** A fleet-wide job that has not finished in this long is reported unfinished, with its counts. */
const FLEET_JOB_TIMEOUT_MS = 120_000;

type OutputEvent = { type: 'chunk'; data: string } | { type: 'status'; status: string } | { type: 'result'; status: string };

interface Settings {
  commands: number;
  /** Round trips through one real agent process (agent/src/exec, a real shell) beside the fleet. */
  realAgentCommands: number;
  warmup: number;
  intervalMs: number;
  connectPerSec: number;
  /** 1: also send one script to every connected agent as one bulk job. */
  fleetJob: number;
  /** The job's devices running at once (jobs.create's `concurrency`, at most 1,000). */
  fleetJobConcurrency: number;
  /** After the real agent reported first, the rest of its start-up (collector, outbox) gets this long. */
  agentSettleMs: number;
  /** Server processes behind the server's port (`--set workers=N`, see serverWorkers). */
  workers: number;
}

/**
 * One technician command, as the console and `ninjait run` do it: `commands.run` of
 * `echo <nonce>`, then `commands.output` until the nonce is seen and the result arrives.
 * Times are from sending the run call.
 */
async function roundTrip(tech: AgentTransport, deviceId: string, timeoutMs: number) {
  const nonce = randomBytes(6).toString('hex');
  const t0 = performance.now();
  const command = await tech.mutation<{ id: string }>('commands.run', { deviceId, script: `echo ${nonce}`, timeoutSec: 30 });
  const runMs = performance.now() - t0;
  return new Promise<{ runMs: number; outputMs: number; resultMs: number }>((resolve, reject) => {
    let outputMs: number | null = null;
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`command ${command.id} did not finish in ${timeoutMs} ms`));
    }, timeoutMs);
    const stop = tech.subscribe('commands.output', { id: command.id }, (data) => {
      const event = data as OutputEvent;
      if (event.type === 'chunk' && event.data.includes(nonce)) outputMs ??= performance.now() - t0;
      if (event.type === 'result') {
        clearTimeout(timer);
        stop();
        if (event.status !== 'succeeded') reject(new Error(`command ${command.id} ended ${event.status}`));
        else resolve({ runMs, outputMs: outputMs ?? performance.now() - t0, resultMs: performance.now() - t0 });
      }
    });
  });
}

/** Starts the fleet and waits until every agent is connected (or failed). */
async function connectFleet(agents: number, start: () => Fleet, timeoutMs: number): Promise<{ fleet: Fleet; connectSec: number }> {
  const fleet = start();
  let connectSec: number;
  try {
    connectSec = await untilConnected(fleet, agents, timeoutMs);
  } catch (error) {
    await fleet.stop();
    throw error;
  }
  fleet.mark();
  return { fleet, connectSec };
}

/** `warmup` untimed round trips (a cold JIT is not what a running server has), then `commands` timed ones. */
async function measureCommands(server: ServerUnderTest, organizationId: string, deviceIds: string[], s: Settings) {
  const person = await loginAs(server, organizationId, 'technician');
  const tech = await connectRaw({ url: server.url, params: { sessionToken: person.sessionToken } });
  const run = new Histogram();
  const output = new Histogram();
  const result = new Histogram();
  const floor = new Histogram();
  const failures: string[] = [];
  let window: ProfileWindow = { startUs: 0, endUs: 0 };
  try {
    for (let i = 0; i < s.warmup + s.commands; i++) {
      const timed = i >= s.warmup;
      if (i === s.warmup) window = { startUs: profileClockUs(), endUs: 0 };
      // Baseline: the same socket, a query that touches only the session: the transport's floor.
      const b0 = performance.now();
      await tech.query('auth.me', undefined);
      if (timed) floor.record(performance.now() - b0);
      const deviceId = deviceIds[Math.floor(Math.random() * deviceIds.length)]!;
      try {
        const rt = await roundTrip(tech, deviceId, 30_000);
        if (!timed) continue;
        run.record(rt.runMs);
        output.record(rt.outputMs);
        result.record(rt.resultMs);
      } catch (error) {
        if (timed) failures.push((error as Error).message);
      }
    }
    window.endUs = profileClockUs();
  } finally {
    tech.close();
  }
  return {
    commands: s.commands, warmup: s.warmup, failures: failures.length, failureExamples: failures.slice(0, 5),
    runAnswered: run.summary(), outputSeen: output.summary(), resultSeen: result.summary(), baselineAuthMe: floor.summary(), window,
  };
}

interface JobStatus {
  total: number;
  status: string;
  counts: Record<'pending' | 'enqueued' | 'running' | 'succeeded' | 'failed' | 'skipped', number>;
  progress: { done: number };
  targets: { status: string; exitCode: number | null }[];
}

const QUERY_COUNT = 'ninjait_store_query_duration_seconds_count';

/** How often the technician's console asks for the job's status (the console's own refresh is slower). */
const JOB_POLL_MS = 250;
/** Per-device results one `jobs.status` page carries at most. */
const TARGETS_PAGE_MAX = 1_000;

/** CPU seconds so far of each process the run is made of (server, PostgreSQL's backends, the simulated fleet), by pid. */
type CpuReading = () => Record<string, ReadonlyMap<number, number>>;

/** Every per-device result of the job, page by page, as a console scrolling the whole list reads it. */
async function allTargets(tech: AgentTransport, jobId: string, total: number) {
  const targets: JobStatus['targets'] = [];
  for (let offset = 0; offset < total; offset += TARGETS_PAGE_MAX) {
    targets.push(...(await tech.query<JobStatus>('jobs.status', { id: jobId, offset, limit: TARGETS_PAGE_MAX })).targets);
  }
  return targets;
}

/** A job's figures without the profile window they were measured in. */
const withoutWindow = <T extends { window: ProfileWindow }>({ window: _window, ...figures }: T) => figures;

/** The run's CPU by process: the server's instances, the database's backends (when it has one of its own), the fleet's workers. */
function cpuOf(server: ServerUnderTest, fleet: Fleet, databaseUrl: string | null): CpuReading {
  const byPid = (pids: readonly number[]) => new Map(pids.map((pid) => [pid, readServerProc(pid)?.cpuSec ?? 0]));
  const database = databaseUrl ? ` ${new URL(databaseUrl).pathname.slice(1)} ` : null;
  return () => ({
    server: byPid(server.instances.map((instance) => instance.pid)),
    ...(database ? { postgres: readByPidOfCommandLines((line) => line.startsWith('postgres:') && line.includes(database), cpuSecOf) } : {}),
    fleet: byPid(fleet.pids),
  });
}

/**
 * One script to every connected agent as one bulk job, as a technician sends it from the console
 * ("run on all devices"): `jobs.create` without device ids, then `jobs.status` (progress and the
 * first page of results, as the console shows them) until every device's result is stored.
 * SaltStack's `salt '*' test.ping` is the yardstick people know. Times are from sending
 * `jobs.create`; the `status` calls are part of the load. Then every result is read, page by page,
 * and counted (timed on its own).
 */
async function fleetWideJob(server: ServerUnderTest, organizationId: string, expected: number, s: Settings, timeoutMs: number, cpu: CpuReading) {
  const person = await loginAs(server, organizationId, 'technician');
  const tech = await connectRaw({ url: server.url, params: { sessionToken: person.sessionToken } });
  try {
    const before = await server.metrics();
    const cpuBefore = cpu();
    const window: ProfileWindow = { startUs: profileClockUs(), endUs: 0 };
    const t0 = performance.now();
    const job = await tech.mutation<{ id: string; total: number }>('jobs.create', {
      name: 'bench: fleet-wide echo', script: 'echo fleet-wide', timeoutSec: 60, concurrency: s.fleetJobConcurrency,
    });
    const createdMs = performance.now() - t0;
    const reached: Record<'half' | 'ninetyNine', number | null> = { half: null, ninetyNine: null };
    let status: JobStatus;
    for (;;) {
      status = await tech.query<JobStatus>('jobs.status', { id: job.id });
      const elapsed = performance.now() - t0;
      if (status.progress.done >= status.total / 2) reached.half ??= elapsed;
      if (status.progress.done >= status.total * 0.99) reached.ninetyNine ??= elapsed;
      if (status.progress.done >= status.total || elapsed > timeoutMs) break;
      await sleep(JOB_POLL_MS);
    }
    const allMs = status.progress.done >= status.total ? performance.now() - t0 : null;
    window.endUs = profileClockUs();
    const cpuAfter = cpu();
    // Work per device, what the time is made of: statements on the relational store (the job's, the
    // agents' reports, the status polls), from the server's own counters.
    const after = await server.metrics();
    const perDevice = (store: string) => {
      const count = (values: MetricValues) => Object.entries(seriesOf(values, QUERY_COUNT))
        .filter(([labels]) => labels.includes(`store="${store}"`)).reduce((sum, [, value]) => sum + value, 0);
      return Math.round(((count(after) - count(before)) / Math.max(1, job.total)) * 10) / 10;
    };
    const r0 = performance.now();
    // A server that answers every target at once (before status pages) needs no paging.
    const targets = status.targets.length >= job.total ? status.targets : await allTargets(tech, job.id, job.total);
    const readAllMs = performance.now() - r0;
    const stored = targets.filter((target) => target.status === 'succeeded' && target.exitCode === 0).length;
    const round = (ms: number | null) => (ms === null ? null : Math.round(ms));
    return {
      devices: job.total, expected, concurrency: s.fleetJobConcurrency, createdMs: round(createdMs), halfMs: round(reached.half),
      ninetyNineMs: round(reached.ninetyNine), allMs: round(allMs), succeeded: stored, readAllResultsMs: round(readAllMs),
      counts: status.counts, jobStatus: status.status,
      relationalStatementsPerDevice: perDevice('relational'), cacheCallsPerDevice: perDevice('cache'),
      cpuSec: Object.fromEntries(Object.entries(cpuAfter).map(([name, after]) => [name, Math.round(growthBetween(cpuBefore[name] ?? new Map(), after) * 100) / 100])),
      window,
    };
  } finally {
    tech.close();
  }
}

/**
 * The same round trips through the real agent (`ninjait-agent run`: its tRPC client, executor
 * and a real `sh -c`), enrolled into an organization of its own on the loaded server.
 */
async function realAgentRoundTrips(server: ServerUnderTest, ctx: BenchContext, s: Settings) {
  if (s.realAgentCommands === 0) return null;
  const dir = await scratchDir('ninjait-bench-agent-');
  const profileDir = ctx.profileDir ? join(ctx.profileDir, 'agent') : null;
  try {
    const { token, organizationId } = await createFleetToken(server, 1);
    const logFile = join(dir, 'agent.log');
    await enrollAgent(server.url, token, join(dir, 'data'), logFile);
    if (profileDir) await mkdir(profileDir, { recursive: true });
    const startedMs = Date.now();
    const agent = spawnAgent(['run', '--data-dir', join(dir, 'data')], logFile, {},
      profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []);
    let stopping = false;
    const died = exited(agent).then((code) => {
      if (!stopping) throw new Error(`the agent exited with ${code}; see ${logFile}`);
    });
    let measured: Awaited<ReturnType<typeof measureCommands>>;
    try {
      const [device] = await server.admin<{ id: string }[]>('admin.devices.list', 'query', { org: organizationId });
      // Connected once its first sample is in; its start-up work (inventory, first collection) is then behind it.
      await waitFor('the real agent to report', async () =>
        (await server.admin<{ id: string; lastSeen: string | null }[]>('admin.devices.list', 'query', { org: organizationId }))[0]?.lastSeen, 60_000, 250);
      await sleep(s.agentSettleMs);
      const measuring = measureCommands(server, organizationId, [device!.id], { ...s, commands: s.realAgentCommands });
      measured = await Promise.race([measuring, died.then(() => measuring)]);
    } finally {
      stopping = true;
      await stopProcess(agent);
    }
    const profileFile = profileDir ? await newestProfile(profileDir, startedMs) : null;
    const { window, ...figures } = measured;
    return { ...figures, profile: profileFile ? await summarizeProfile(profileFile, REPO_ROOT, 20, window) : null };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function fleetOptions(server: ServerUnderTest, ctx: BenchContext, agents: number, s: Settings) {
  const startPeriodMs = Math.round((agents / s.connectPerSec) * 1000);
  return {
    agents, serverUrls: server.instances.map((i) => i.url), runId: ctx.runId, intervalMs: s.intervalMs, startPeriodMs,
    durationMs: startPeriodMs + 30 * 60_000, sourceAddresses: loopbackAddresses(SOURCE_ADDRESSES),
    enrollAddresses: loopbackAddresses(ENROLL_ADDRESSES, 100), transport: 'raw' as const, mode: 'interval' as const,
    recordsPerPush: 1, heartbeat: true, enrollConcurrency: 16, commands: true,
  };
}

/**
 * A level on a server of its own: the devices are written into its store before it starts
 * (enrollment is the `connected` benchmark's business), so 10,000 agents only have to connect.
 */
async function ownServerLevel(ctx: BenchContext, agents: number, s: Settings) {
  const dataDir = await scratchDir('ninjait-bench-commands-');
  const scratch = ctx.stores.databaseUrl ? await scratchDatabase(ctx.stores.databaseUrl) : null;
  try {
    const provisioned = await provisionFleet({ databaseUrl: scratch?.url, dataDir }, agents, ctx.runId);
    const startedMs = Date.now();
    const server = await startServerUnderTest({
      stores: ctx.stores, dataDir, ...(scratch ? { databaseUrl: scratch.url } : {}),
      env: { AGENT_INTERVAL_MS: String(s.intervalMs) }, workers: s.workers, ...(ctx.profileDir ? { cpuProfDir: ctx.profileDir } : {}),
    });
    let measured: Awaited<ReturnType<typeof measureCommands>>;
    let fleetSnapshot: Awaited<ReturnType<Fleet['stop']>>;
    let connectSec: number;
    let realAgent: Awaited<ReturnType<typeof realAgentRoundTrips>> = null;
    let fleetJob: Awaited<ReturnType<typeof fleetWideJob>> | null = null;
    try {
      const connected = await connectFleet(agents, () => startFleet({
        ...fleetOptions(server, ctx, agents, s), token: 'provisioned', credentials: provisioned.credentials,
      }), 10 * 60_000);
      connectSec = connected.connectSec;
      progress(`  all ${connected.fleet.snapshot().connected} connected after ${connectSec.toFixed(1)} s`);
      try {
        measured = await measureCommands(server, provisioned.organizationId, provisioned.credentials.map((c) => c.deviceId), s);
        if (s.fleetJob) fleetJob = await fleetWideJob(server, provisioned.organizationId, agents, s, FLEET_JOB_TIMEOUT_MS, cpuOf(server, connected.fleet, scratch?.url ?? null));
        realAgent = await realAgentRoundTrips(server, ctx, s);
      } finally {
        fleetSnapshot = await connected.fleet.stop();
      }
    } finally {
      await server.stop();
    }
    const profileFile = ctx.profileDir ? await newestProfile(ctx.profileDir, startedMs) : null;
    const { window, ...figures } = measured;
    return {
      agents, connectSec: Math.round(connectSec * 10) / 10, ...figures, fleetJob: fleetJob && withoutWindow(fleetJob), realAgent, fleet: fleetFigures(fleetSnapshot),
      profile: profileFile ? await summarizeProfile(profileFile, REPO_ROOT, 30, window) : null,
      // Where the server's time went while the job ran: self time, and the stretches that held the event loop.
      fleetJobProfile: profileFile && fleetJob ? {
        window: fleetJob.window, ...(await summarizeProfile(profileFile, REPO_ROOT, 30, fleetJob.window)), longTasks: await longTasks(profileFile, REPO_ROOT, { window: fleetJob.window, minMs: 50, top: 10 }),
      } : null,
    };
  } finally {
    await scratch?.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** A level on the run's shared server (the smoke test): agents enroll with a token, as in `connected`. */
async function sharedServerLevel(ctx: BenchContext, server: ServerUnderTest, agents: number, s: Settings) {
  const { token, organizationId } = await createFleetToken(server, agents);
  const { fleet } = await connectFleet(agents, () => startFleet({ ...fleetOptions(server, ctx, agents, s), token }), 10 * 60_000);
  try {
    const devices = await server.admin<{ id: string }[]>('admin.devices.list', 'query', { org: organizationId });
    const { window: _window, ...figures } = await measureCommands(server, organizationId, devices.map((d) => d.id), s);
    const fleetJob = s.fleetJob ? await fleetWideJob(server, organizationId, agents, s, FLEET_JOB_TIMEOUT_MS, cpuOf(server, fleet, null)) : null;
    const realAgent = await realAgentRoundTrips(server, ctx, s);
    return {
      agents, connectSec: null, ...figures, fleetJob: fleetJob && withoutWindow(fleetJob), realAgent, fleet: fleetFigures(await fleet.stop()), profile: null, fleetJobProfile: null,
    };
  } catch (error) {
    await fleet.stop();
    throw error;
  }
}

export const commandsBenchmark: Benchmark = {
  name: 'commands',
  summary: 'technician → agent echo → output seen: p50/p99 at 1, 1,000 and 10,000 agents',
  async run(ctx) {
    const levels = settingList(ctx, 'commandAgents', [1, 1_000, 10_000], [1, 5]);
    const s: Settings = {
      commands: setting(ctx, 'commands', 200, 5),
      realAgentCommands: setting(ctx, 'realAgentCommands', 50, 3),
      warmup: setting(ctx, 'warmup', 20, 2),
      intervalMs: setting(ctx, 'intervalMs', 30_000, 5_000),
      connectPerSec: setting(ctx, 'connectPerSec', 500, 500),
      fleetJob: setting(ctx, 'fleetJob', 1, 1),
      fleetJobConcurrency: setting(ctx, 'fleetJobConcurrency', 1_000, 1_000),
      agentSettleMs: setting(ctx, 'agentSettleMs', 2_000, 2_000),
      workers: serverWorkers(ctx),
    };
    const out = [];
    for (const agents of levels) {
      progress(`commands: ${s.warmup} + ${s.commands} echo round trips with ${agents} agents connected`);
      out.push(ctx.sharedServer ? await sharedServerLevel(ctx, ctx.sharedServer, agents, s) : await ownServerLevel(ctx, agents, s));
    }
    const seen = (l: { outputSeen: { p50Ms: number | null; p99Ms: number | null }; failures: number }) =>
      `${fmt(l.outputSeen.p50Ms, 'ms')} / ${fmt(l.outputSeen.p99Ms, 'ms')}${l.failures ? ` (${l.failures} failed)` : ''}`;
    const floor = (l: { baselineAuthMe: { p50Ms: number | null; p99Ms: number | null } }) =>
      `auth.me ${fmt(l.baselineAuthMe.p50Ms, 'ms')} / ${fmt(l.baselineAuthMe.p99Ms, 'ms')}`;
    const sec = (ms: number | null) => fmt(ms === null ? null : ms / 1000, 's', 1);
    const rows: Row[] = out.flatMap((l) => [
      { benchmark: 'commands', figure: `${l.agents} agents: echo output seen p50 / p99`, value: seen(l), baseline: floor(l), goal: 'p50 ≤ 15 ms, p99 ≤ 50 ms at 10k' },
      ...(l.fleetJob ? [{
        benchmark: 'commands', figure: `${l.agents} agents: one script to all as a bulk job, every result stored (half · 99 % · all)`,
        value: `${sec(l.fleetJob.halfMs)} · ${sec(l.fleetJob.ninetyNineMs)} · ${l.fleetJob.allMs === null ? `unfinished (${l.fleetJob.counts.succeeded + l.fleetJob.counts.failed} of ${l.fleetJob.devices})` : sec(l.fleetJob.allMs)}${l.fleetJob.succeeded < l.fleetJob.devices ? ` (${l.fleetJob.devices - l.fleetJob.succeeded} not succeeded)` : ''}`,
        baseline: `one echo p50 ${fmt(l.outputSeen.p50Ms, 'ms')}`, goal: '≤ 5 s at 10k',
      }] : []),
      ...(l.realAgent ? [{
        benchmark: 'commands', figure: `${l.agents} agents: same through the real agent`, value: seen(l.realAgent), baseline: floor(l.realAgent), goal: '-',
      }] : []),
    ]);
    return { config: { levels, ...s }, figures: { levels: out }, rows };
  },
};
