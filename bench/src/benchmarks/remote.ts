import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { loopbackAddresses, startFleet, untilConnected, type Fleet } from '../fleet/fleet.ts';
import { connectRaw, type AgentTransport } from '../fleet/transport.ts';
import { enrollAgent, exited, spawnAgent, stopProcess } from '../lib/agent-process.ts';
import { loginAs } from '../lib/people.ts';
import { growthBetween, readByPidOfCommandLines, readProc, readServerProc, runQueueWaitMs, sampleProcesses } from '../lib/proc.ts';
import { progress, sleep, waitFor } from '../lib/progress.ts';
import { provisionFleet } from '../lib/provision.ts';
import { createFleetToken, REPO_ROOT, startServerUnderTest, type ServerUnderTest } from '../lib/server-process.ts';
import { Histogram, round } from '../lib/stats.ts';
import { scratchDatabase } from '../lib/stores.ts';
import { fmt, type Row } from '../lib/table.ts';
import { ENROLL_ADDRESSES, SOURCE_ADDRESSES } from './connected.ts';
import { serverWorkers, setting, type BenchContext, type Benchmark } from './types.ts';
import { scratchDir } from '../lib/scratch.ts';
import { newestProfile, profileClockUs, summarizeProfile, type ProfileWindow } from '../lib/cpuprofile.ts';
import { loopDelayBetween } from '../lib/loop-delay.ts';

const SERVER_CLI = join(REPO_ROOT, 'server/src/cli/main.ts');
const MB = 1024 * 1024;

interface Settings {
  /** Simulated agents connected while the keystrokes are timed. */
  agents: number;
  keystrokes: number;
  /** Terminals open at once, spread over `realAgents` real agent processes. */
  sessions: number;
  realAgents: number;
  keystrokesPerSession: number;
  downloadMb: number;
  connectPerSec: number;
  /** 1: only the download (`--set downloadOnly=1`): no fleet, no terminals, one real agent. */
  downloadOnly: number;
  /** The simulated fleet's nice value (`--set fleetNice=10`): see FleetOptions.nice. */
  fleetNice: number;
  /** How long the agent's and the server's idle CPU is sampled before a download, to take it out of the copy's. */
  idleSampleMs: number;
  /** Server processes behind the server's port (`--set workers=N`, see serverWorkers). */
  workers: number;
  /** 1: wait for the real agents' start-up work (first inventory, patch scan) before timing anything (see untilSettled). */
  settleAgents: number;
}

type ShellEvent = { type: 'opened'; pty: boolean } | { type: 'output'; data: string } | { type: 'closed'; reason: string };

/** A real agent process (`ninjait-agent run`: node-pty, the file service), with its file root. */
interface RealAgent { deviceId: string; organizationId: string; process: ChildProcess; fileRoot: string; stop(): Promise<void> }

/**
 * `count` real agents, each enrolled into an organization of its own: they all run on this one
 * machine, and a second enrollment of a known machine into the same organization waits for an
 * admin (issue #13's takeover guard).
 */
async function startRealAgents(server: ServerUnderTest, count: number, dir: string, profileDir: string | null): Promise<RealAgent[]> {
  const agents: RealAgent[] = [];
  for (let i = 0; i < count; i++) {
    const { token, organizationId } = await createFleetToken(server, 1);
    const home = join(dir, `agent-${i}`);
    const fileRoot = join(home, 'files');
    await mkdir(fileRoot, { recursive: true });
    const logFile = join(home, 'agent.log');
    await enrollAgent(server.url, token, join(home, 'data'), logFile);
    const saved = JSON.parse(await readFile(join(home, 'data', 'agent.json'), 'utf8')) as { deviceId: string };
    const child = spawnAgent(['run', '--data-dir', join(home, 'data')], logFile, { NINJAIT_FILE_ROOTS: fileRoot }, cpuProfArgs(profileDir));
    agents.push({ deviceId: saved.deviceId, organizationId, process: child, fileRoot, stop: () => stopProcess(child) });
  }
  // Connected once each has reported its first sample (its first inventory comes later: untilSettled).
  for (const agent of agents) {
    await waitFor('a real agent to report', async () => {
      if (agent.process.exitCode !== null) throw new Error(`a real agent exited with ${agent.process.exitCode}`);
      const [device] = await server.admin<{ id: string; lastSeen: string | null }[]>('admin.devices.list', 'query', { org: agent.organizationId });
      return device?.lastSeen ? true : undefined;
    }, 120_000, 500);
  }
  return agents;
}

/** CPU seconds of the real agents so far, with the probes they ran and waited for (dpkg-query, apt). */
const realAgentsCpuSec = (agents: readonly RealAgent[]) =>
  agents.reduce((sum, agent) => {
    const snapshot = readProc(agent.process.pid!);
    return sum + (snapshot ? snapshot.cpuSec + snapshot.childCpuSec : 0);
  }, 0);

/** Below this share of a core for a whole second, the real agents are idle between samples. */
const SETTLED_CORES = 0.05;

/**
 * Until each real agent's first software inventory is stored and the agents' CPU, probes
 * included, has gone quiet. An agent scans its packages and pending updates 30 s after it starts
 * (dpkg-query, apt: a second or more of CPU each); here the agents share the server's two cores,
 * where a deployment's endpoints are other machines, so five scans at once stalled the server for
 * up to a second and set the keys' tail. An agent's later scans are hourly.
 */
async function untilSettled(server: ServerUnderTest, agents: readonly RealAgent[]): Promise<void> {
  const started = performance.now();
  for (const agent of agents) {
    await waitFor('a real agent\'s first inventory', async () => {
      if (agent.process.exitCode !== null) throw new Error(`a real agent exited with ${agent.process.exitCode}`);
      const { state } = await server.admin<{ state: { reportedAt: string | null } | null }>('admin.patching.software', 'query', { device: agent.deviceId, limit: 1 });
      return state?.reportedAt ? true : undefined;
    }, 120_000, 1_000);
  }
  await waitFor('the real agents to go idle', async () => {
    const before = realAgentsCpuSec(agents);
    await sleep(1_000);
    return realAgentsCpuSec(agents) - before < SETTLED_CORES ? true : undefined;
  }, 60_000, 0);
  progress(`  remote: the real agents' start-up work done after ${((performance.now() - started) / 1000).toFixed(1)} s more`);
}

/** One terminal as the console holds it: open, watch its output, type. */
async function openTerminal(tech: AgentTransport, deviceId: string) {
  const { sessionId } = await tech.mutation<{ sessionId: string }>('shell.open', { deviceId, shell: 'sh', cols: 120, rows: 40, idleTimeoutSec: 600 });
  let text = '';
  let opened: boolean | null = null;
  let closed: string | null = null;
  const stop = tech.subscribe('shell.output', { sessionId }, (data) => {
    const event = data as ShellEvent;
    if (event.type === 'opened') opened = event.pty;
    if (event.type === 'output') text += event.data;
    if (event.type === 'closed') closed = event.reason;
  });
  await waitFor('the terminal to open', () => {
    if (closed) throw new Error(`the terminal closed: ${closed}`);
    return opened !== null;
  }, 30_000, 10);
  // The prompt first: the shell is reading its input.
  await waitFor('the prompt', () => text.length > 0, 10_000, 10);
  return {
    sessionId, pty: opened as unknown as boolean,
    /** Types one character: milliseconds until `shell.input` answered, and until the device's echo of it arrived. */
    async keystroke(char: string): Promise<{ answeredMs: number; echoMs: number }> {
      const from = text.length;
      const started = performance.now();
      await tech.mutation('shell.input', { sessionId, data: char });
      const answeredMs = performance.now() - started;
      await waitFor(`the echo of "${char}"`, () => text.indexOf(char, from) >= 0, 10_000, 1);
      return { answeredMs, echoMs: performance.now() - started };
    },
    async close() {
      stop();
      await tech.mutation('shell.close', { sessionId }).catch(() => undefined);
    },
  };
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';
/**
 * Keys are typed at ten a second, a fast typist's pace (the shell-input audit holds a faster
 * sustained stream, like a storm of keys, to ten entries a second; a paste is one input).
 */
const KEY_EVERY_MS = 100;

/** Waits out the rest of a key's slot, so keys start KEY_EVERY_MS apart whatever their echo took. */
const paced = (startedMs: number) => sleep(Math.max(0, KEY_EVERY_MS - (performance.now() - startedMs)));

/**
 * Run-queue waits so far of the processes on a key's path: the server's event loop, and this
 * machine's Redis and PostgreSQL when they run here. Each is a reading by pid (see `growthBetween`).
 */
function readRunQueueWaits(serverPid: number) {
  return {
    server: new Map([[serverPid, runQueueWaitMs(serverPid) ?? 0]]),
    redis: readByPidOfCommandLines((line) => line.startsWith('redis-server'), runQueueWaitMs),
    postgres: readByPidOfCommandLines((line) => line.startsWith('postgres'), runQueueWaitMs),
  };
}

/** Milliseconds each process waited for a CPU per second of the window, from two sets of readings. */
function waitedPerSecond(before: Record<string, Map<number, number>>, after: Record<string, Map<number, number>>, seconds: number) {
  return Object.fromEntries(Object.keys(after).map((name) => [name, round(growthBetween(before[name]!, after[name]!) / seconds, 1)]));
}

/** `count` keystrokes on one terminal, each waited for, beside the socket's own floor (`auth.me`). */
async function timeKeystrokes(server: ServerUnderTest, organizationId: string, deviceId: string, count: number) {
  const person = await loginAs(server, organizationId, 'technician');
  const tech = await connectRaw({ url: server.url, params: { sessionToken: person.sessionToken } });
  const echo = new Histogram();
  const answered = new Histogram();
  const floor = new Histogram();
  try {
    const terminal = await openTerminal(tech, deviceId);
    const metricsBefore = await server.metrics(0);
    // The typist's own loop (this process): a stall here delays the echo without being the server's.
    const typistLoop = monitorEventLoopDelay({ resolution: 10 });
    typistLoop.enable();
    const waitsBefore = readRunQueueWaits(server.pid);
    const typingStarted = performance.now();
    for (let i = 0; i < count; i++) {
      const b0 = performance.now();
      await tech.query('auth.me', undefined);
      floor.record(performance.now() - b0);
      const k0 = performance.now();
      const timed = await terminal.keystroke(LETTERS[i % LETTERS.length]!);
      echo.record(timed.echoMs);
      answered.record(timed.answeredMs);
      await paced(k0);
      // Erase it again, so the line never wraps; the echo of the erase is not timed.
      if (i % 20 === 19) await tech.mutation('shell.input', { sessionId: terminal.sessionId, data: '\x15' });
    }
    // While the keys were typed: the server-wide stalls a keystroke's echo waits out.
    const loopDelay = loopDelayBetween(metricsBefore, await server.metrics(0));
    // Time the server's loop, Redis and PostgreSQL were ready to run but had no CPU: what the
    // machine, not the code, adds to a key (it shares two cores with the fleet's simulator).
    const runQueueWaitMsPerSec = waitedPerSecond(waitsBefore, readRunQueueWaits(server.pid), (performance.now() - typingStarted) / 1000);
    typistLoop.disable();
    const typistLoopDelay = { p99Ms: round(typistLoop.percentile(99) / 1e6, 1), maxMs: round(typistLoop.max / 1e6, 1) };
    await terminal.close();
    return { pty: terminal.pty, keystrokes: count, echo: echo.summary(), inputAnswered: answered.summary(), baselineAuthMe: floor.summary(), loopDelay, typistLoopDelay, runQueueWaitMsPerSec };
  } finally {
    tech.close();
  }
}

/** `sessions` terminals open at once over the real agents, each typing in parallel: echo latency and the server's cost. */
async function concurrentSessions(server: ServerUnderTest, agents: RealAgent[], s: Settings) {
  const people = await Promise.all(agents.map((agent) => loginAs(server, agent.organizationId, 'technician')));
  const sockets: AgentTransport[] = [];
  const rssBefore = rssMb(server.pid);
  try {
    const terminals = [];
    for (let i = 0; i < s.sessions; i++) {
      const tech = await connectRaw({ url: server.url, params: { sessionToken: people[i % agents.length]!.sessionToken } });
      sockets.push(tech);
      terminals.push(await openTerminal(tech, agents[i % agents.length]!.deviceId));
    }
    const rssOpen = rssMb(server.pid);
    const echo = new Histogram();
    const cpuBefore = readServerProc(server.pid)?.cpuSec ?? 0;
    const started = performance.now();
    await Promise.all(terminals.map(async (terminal, t) => {
      for (let i = 0; i < s.keystrokesPerSession; i++) {
        const k0 = performance.now();
        echo.record((await terminal.keystroke(LETTERS[(i + t) % LETTERS.length]!)).echoMs);
        await paced(k0);
      }
    }));
    const seconds = (performance.now() - started) / 1000;
    const serverCpuCores = round(((readServerProc(server.pid)?.cpuSec ?? cpuBefore) - cpuBefore) / seconds, 2);
    await Promise.all(terminals.map((terminal) => terminal.close()));
    return { sessions: s.sessions, realAgents: agents.length, echo: echo.summary(), serverCpuCores, serverRssMb: { before: rssBefore, allOpen: rssOpen } };
  } finally {
    for (const socket of sockets) socket.close();
  }
}

/** Resident memory of a process in MB, null once it is gone. */
const rssMb = (pid: number): number | null => {
  const snapshot = readProc(pid);
  return snapshot ? round(snapshot.rssBytes / MB, 1) : null;
};

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** A file of `mb` MiB of incompressible bytes (one random MiB, repeated: writing 1 GB of fresh randomness would time the disk). */
async function writeFile(path: string, mb: number): Promise<void> {
  const block = randomBytes(MB);
  const handle = await open(path, 'w');
  try {
    for (let i = 0; i < mb; i++) {
      block.writeUInt32LE(i, 0);
      await handle.write(block);
    }
  } finally {
    await handle.close();
  }
}

/** `--cpu-prof` into `dir` (a process's profile is written when it exits), or nothing. */
const cpuProfArgs = (dir: string | null): string[] => (dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : []);

/** `ninjait cp DEVICE:PATH LOCAL` as a technician at the server runs it; resolves with its wall time. */
function cliCopy(server: ServerUnderTest, deviceId: string, remotePath: string, localPath: string, profileDir: string | null = null): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, [...cpuProfArgs(profileDir), '--import', 'tsx', SERVER_CLI, 'cp', '--server', server.url, '--data-dir', server.dataDir, `${deviceId}:${remotePath}`, localPath], {
    cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2_000)));
  return exited(child).then((code) => {
    if (code !== 0) throw new Error(`ninjait cp exited with ${code}: ${stderr}`);
    return performance.now() - started;
  });
}

/**
 * Downloads a `mb` MiB file from the real agent with `ninjait cp`, watching the agent's and the
 * server's memory every 100 ms: streams, not buffers, keep both flat. Baseline: the same command
 * for a 1 MiB file (its start-up and one chunk).
 */
async function timeDownload(server: ServerUnderTest, agent: RealAgent, dir: string, mb: number, idleSampleMs: number, cpProfileDir: string | null) {
  const small = join(agent.fileRoot, 'one.bin');
  const big = join(agent.fileRoot, 'big.bin');
  await writeFile(small, 1);
  await writeFile(big, mb);
  try {
    const baselineMs = await cliCopy(server, agent.deviceId, small, join(dir, 'one.copy'));
    // CPU seconds each side spent on the copy: a rate on a shared, loaded machine says little alone.
    // The CLI is this process's child, counted once it has exited and been reaped.
    const cpu = () => ({ agent: readProc(agent.process.pid!)?.cpuSec ?? 0, server: readServerProc(server.pid)?.cpuSec ?? 0, cli: readProc(process.pid)?.childCpuSec ?? 0 });
    // What the agent and the server spend idle (heartbeats, drainers, the scheduler) is taken out.
    const idleFrom = cpu();
    await sleep(idleSampleMs);
    const idleTo = cpu();
    const idlePerSec = { agent: (idleTo.agent - idleFrom.agent) / (idleSampleMs / 1000), server: (idleTo.server - idleFrom.server) / (idleSampleMs / 1000) };
    const cpuBefore = cpu();
    // The first sample is taken as the copy starts: what each process held before it.
    const watch = sampleProcesses({ agent: agent.process.pid! }, 100, {}, { server: server.pid });
    const copy = join(dir, 'big.copy');
    let ms: number;
    let memory: ReturnType<typeof watch.stop>;
    const window = { startUs: profileClockUs(), endUs: 0 };
    try {
      ms = await cliCopy(server, agent.deviceId, big, copy, cpProfileDir);
    } finally {
      memory = watch.stop();
      window.endUs = profileClockUs();
    }
    const cpuAfter = cpu();
    const net = (key: 'agent' | 'server') => round(Math.max(0, cpuAfter[key] - cpuBefore[key] - idlePerSec[key] * (ms / 1000)), 1);
    const cpuSec = { agent: net('agent'), server: net('server'), cli: round(cpuAfter.cli - cpuBefore.cli, 1), idleCores: { agent: round(idlePerSec.agent, 3), server: round(idlePerSec.server, 3) } };
    const beforeMb = (name: 'agent' | 'server') => {
      const first = watch.series[name]![0];
      return first ? round(first.rssBytes / MB, 1) : null;
    };
    const before = { agent: beforeMb('agent'), server: beforeMb('server') };
    const peak = { agent: memory.agent!.rssMaxMb, server: memory.server!.rssMaxMb };
    const equal = (await stat(copy)).size === mb * MB && (await sha256(copy)) === (await sha256(big));
    await rm(copy, { force: true });
    const grew = (key: 'agent' | 'server') => (before[key] === null ? null : round(peak[key] - before[key]!, 1));
    return {
      mb, seconds: round(ms / 1000, 1), mbPerSec: round(mb / (ms / 1000), 1), mbPerSecWithoutStartup: round(mb / ((ms - baselineMs) / 1000), 1),
      baselineOneMbMs: round(baselineMs, 0), sha256Equal: equal,
      rssMb: { before, peak }, agentRssGrowthMb: grew('agent'), serverRssGrowthMb: grew('server'), cpuSec, window,
    };
  } finally {
    await rm(big, { force: true });
    await rm(small, { force: true });
  }
}

async function run(ctx: BenchContext, s: Settings) {
  const dir = await scratchDir('ninjait-bench-remote-');
  const startedMs = Date.now();
  const profiles = ctx.profileDir ? { agent: join(ctx.profileDir, 'agent'), cp: join(ctx.profileDir, 'cp') } : null;
  if (profiles) await Promise.all([mkdir(profiles.agent, { recursive: true }), mkdir(profiles.cp, { recursive: true })]);
  let figures: { agents: number; keystrokes: (Awaited<ReturnType<typeof timeKeystrokes>> & { realAgentsCpuCores: number }) | null; sessions: Awaited<ReturnType<typeof concurrentSessions>> | null; download: Omit<Awaited<ReturnType<typeof timeDownload>>, 'window'> };
  let downloadWindow: ProfileWindow | null = null;
  const scratch = !ctx.sharedServer && ctx.stores.databaseUrl ? await scratchDatabase(ctx.stores.databaseUrl) : null;
  let server: ServerUnderTest | null = null;
  let fleet: Fleet | null = null;
  let agents: RealAgent[] = [];
  try {
    const dataDir = join(dir, 'server');
    await mkdir(dataDir);
    const provisioned = ctx.sharedServer || s.agents === 0 || s.downloadOnly ? null : await provisionFleet({ databaseUrl: scratch?.url, dataDir }, s.agents, ctx.runId);
    server = ctx.sharedServer ?? await startServerUnderTest({ stores: ctx.stores, dataDir, workers: s.workers, ...(scratch ? { databaseUrl: scratch.url } : {}), ...(ctx.profileDir ? { cpuProfDir: ctx.profileDir } : {}) });
    // The real agents first: their start-up (enrollment, the first inventory and patch scan, 30 s
    // in) then runs while the fleet connects, not while keys are timed.
    agents = await startRealAgents(server, s.downloadOnly ? 1 : s.realAgents, dir, profiles?.agent ?? null);
    if (provisioned) {
      const startPeriodMs = Math.round((s.agents / s.connectPerSec) * 1000);
      fleet = startFleet({
        agents: s.agents, serverUrls: [server.url], runId: ctx.runId, intervalMs: 30_000, startPeriodMs, durationMs: startPeriodMs + 60 * 60_000,
        sourceAddresses: loopbackAddresses(SOURCE_ADDRESSES), enrollAddresses: loopbackAddresses(ENROLL_ADDRESSES, 100), transport: 'raw',
        mode: 'interval', recordsPerPush: 1, heartbeat: true, enrollConcurrency: 16, commands: false, token: 'provisioned', credentials: provisioned.credentials,
        nice: s.fleetNice,
      });
      const connectSec = await untilConnected(fleet, s.agents, 10 * 60_000);
      progress(`  remote: ${s.agents} simulated agents connected after ${connectSec.toFixed(1)} s`);
    }
    if (s.settleAgents) await untilSettled(server, agents);
    let keystrokes: typeof figures.keystrokes = null;
    let sessions = null;
    if (!s.downloadOnly) {
      progress(`  remote: ${s.keystrokes} keystrokes on a terminal of a real agent`);
      // The real agents' CPU while the keys are timed: their start-up, if it ran on, competes with the key's path.
      const [cpuBefore, typingFrom] = [realAgentsCpuSec(agents), performance.now()];
      const timed = await timeKeystrokes(server, agents[0]!.organizationId, agents[0]!.deviceId, s.keystrokes);
      keystrokes = { ...timed, realAgentsCpuCores: round((realAgentsCpuSec(agents) - cpuBefore) / ((performance.now() - typingFrom) / 1000), 3) };
      progress(`  remote: ${s.sessions} terminals at once over ${agents.length} real agents`);
      sessions = await concurrentSessions(server, agents, s);
    }
    // The fleet's sockets are not part of a download: stopped first, so the server's memory is the transfer's.
    await fleet?.stop();
    fleet = null;
    progress(`  remote: a ${s.downloadMb} MiB download with ninjait cp`);
    const { window, ...download } = await timeDownload(server, agents[0]!, dir, s.downloadMb, s.idleSampleMs, profiles?.cp ?? null);
    downloadWindow = window;
    figures = { agents: s.agents, keystrokes, sessions, download };
  } finally {
    await Promise.all(agents.map((agent) => agent.stop()));
    await fleet?.stop();
    if (server && !ctx.sharedServer) await server.stop();
    await scratch?.drop();
    await rm(dir, { recursive: true, force: true });
  }
  // Profiles are written as each process exits: read once all have stopped.
  return { ...figures, profiles: profiles && downloadWindow ? await downloadProfiles(ctx.profileDir!, profiles, startedMs, downloadWindow) : null };
}

/**
 * Where each process spent the big copy's CPU: the server and the agent within its window (their
 * profiles cover their whole life), the `ninjait cp` process whole (its start-up is part of a copy).
 */
async function downloadProfiles(serverDir: string, dirs: { agent: string; cp: string }, sinceMs: number, window: ProfileWindow) {
  const summary = async (dir: string, within?: ProfileWindow) => {
    const file = await newestProfile(dir, sinceMs);
    return file ? summarizeProfile(file, REPO_ROOT, 15, within) : null;
  };
  return { server: await summary(serverDir, window), agent: await summary(dirs.agent, window), cp: await summary(dirs.cp) };
}

export const remoteBenchmark: Benchmark = {
  name: 'remote',
  summary: 'terminal keystroke → echo p99 with 10,000 agents connected, 100 terminals at once, a 1 GB download with ninjait cp',
  async run(ctx) {
    const s: Settings = {
      agents: setting(ctx, 'remoteAgents', 10_000, 0),
      keystrokes: setting(ctx, 'keystrokes', 600, 20),
      sessions: setting(ctx, 'sessions', 100, 4),
      realAgents: setting(ctx, 'realAgents', 5, 1),
      keystrokesPerSession: setting(ctx, 'keystrokesPerSession', 20, 3),
      downloadMb: setting(ctx, 'downloadMb', 1024, 16),
      connectPerSec: setting(ctx, 'connectPerSec', 500, 500),
      downloadOnly: setting(ctx, 'downloadOnly', 0, 0),
      fleetNice: setting(ctx, 'fleetNice', 0, 0),
      idleSampleMs: setting(ctx, 'idleSampleMs', 5_000, 5_000),
      workers: serverWorkers(ctx),
      settleAgents: setting(ctx, 'settleAgents', 1, 0),
    };
    const f = await run(ctx, s);
    const rows: Row[] = [];
    if (f.keystrokes && f.sessions) rows.push(
      {
        benchmark: 'remote', figure: `keystroke → echo p50 / p99 (${f.keystrokes.pty ? 'pty' : 'piped shell'}), ${s.agents} agents connected${s.fleetNice ? ` (their simulator at nice ${s.fleetNice})` : ''}`,
        value: `${fmt(f.keystrokes.echo.p50Ms, 'ms')} / ${fmt(f.keystrokes.echo.p99Ms, 'ms')}`,
        baseline: `auth.me ${fmt(f.keystrokes.baselineAuthMe.p50Ms, 'ms')} / ${fmt(f.keystrokes.baselineAuthMe.p99Ms, 'ms')}; event-loop delay p99 / max ${fmt(f.keystrokes.loopDelay.p99Ms, 'ms')} / ${fmt(f.keystrokes.loopDelay.maxMs, 'ms')}`
          + `; waited for a CPU, ms/s: server ${f.keystrokes.runQueueWaitMsPerSec.server}, Redis ${f.keystrokes.runQueueWaitMsPerSec.redis}, PostgreSQL ${f.keystrokes.runQueueWaitMsPerSec.postgres}`,
        goal: 'p99 < 50 ms',
      },
      {
        benchmark: 'remote', figure: `${s.sessions} terminals at once over ${s.realAgents} agents: echo p50 / p99 · server CPU`,
        value: `${fmt(f.sessions.echo.p50Ms, 'ms')} / ${fmt(f.sessions.echo.p99Ms, 'ms')} · ${fmt(f.sessions.serverCpuCores, 'cores', 2)}`,
        baseline: `server RSS ${fmt(f.sessions.serverRssMb.before, 'MB')} → ${fmt(f.sessions.serverRssMb.allOpen, 'MB')} open`, goal: '100 sessions',
      },
    );
    rows.push({
      benchmark: 'remote', figure: `${s.downloadMb} MiB download (ninjait cp): MB/s · agent / server RSS growth`,
      value: `${fmt(f.download.mbPerSec, 'MB/s')}${f.download.sha256Equal ? '' : ' (SHA-256 differs!)'} · ${fmt(f.download.agentRssGrowthMb, 'MB')} / ${fmt(f.download.serverRssGrowthMb, 'MB')}`,
      baseline: `1 MiB copy ${fmt(f.download.baselineOneMbMs, 'ms')}; CPU agent / server / cp ${f.download.cpuSec.agent} / ${f.download.cpuSec.server} / ${f.download.cpuSec.cli} s`, goal: '≥ 50 MB/s, ≤ 64 MB each',
    });
    return { config: { ...s }, figures: f, rows };
  },
};
