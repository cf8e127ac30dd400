import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { loopbackAddresses, startFleet, untilConnected } from '../fleet/fleet.ts';
import { connectRaw } from '../fleet/transport.ts';
import { removeDir, stopProcessGroup } from '../lib/agent-process.ts';
import { processGroupMembers, readProc } from '../lib/proc.ts';
import { trpcHttp } from '../lib/http-trpc.ts';
import { loginAs } from '../lib/people.ts';
import { progress, sleep, waitFor } from '../lib/progress.ts';
import { provisionFleet } from '../lib/provision.ts';
import { freePort, REPO_ROOT, startServerUnderTest, type ServerUnderTest } from '../lib/server-process.ts';
import { Histogram, round, type LatencySummary } from '../lib/stats.ts';
import { scratchDatabase } from '../lib/stores.ts';
import { fmt, type Row } from '../lib/table.ts';
import { ENROLL_ADDRESSES, fleetFigures, runSteadyFleet, SOURCE_ADDRESSES } from './connected.ts';
import { setting, type BenchContext, type Benchmark } from './types.ts';
import { scratchDir } from '../lib/scratch.ts';

/** What `devices.list` answers: one page of slim rows. */
type Page = { items: { id: string; summary: unknown }[]; total: number; nextCursor: string | null };
type Headers = { headers: Record<string, string> };

/** The console's page size, and the largest page the server gives (for walking the fleet). */
const PAGE = 100;
const MAX_PAGE = 500;
/** Calls of the whole-fleet reference read: it is slow at 10,000 devices and only there for scale. */
const WHOLE_FLEET_CALLS = 20;

/** Every page of a listing, following the cursors. */
async function walk(url: string, opts: Headers, input: Record<string, unknown>): Promise<Page[]> {
  const pages: Page[] = [];
  let cursor: string | null = null;
  do {
    const page: Page = await trpcHttp<Page>(url, 'devices.list', 'query', { ...input, ...(cursor ? { cursor } : {}) }, opts);
    pages.push(page);
    cursor = page.nextCursor;
  } while (cursor);
  return pages;
}

/**
 * The reads a person's console makes, by name: the overview's calls, the devices table (first
 * page, a filtered and sorted one, a search, a page deep in the fleet) and a device page.
 * `auth.me` touches only the session: the floor every other call stands on.
 */
function consoleReads(url: string, opts: Headers, cursors: string[], ids: string[]) {
  const pick = <T>(values: T[]) => values[Math.floor(Math.random() * values.length)]!;
  const list = (input: Record<string, unknown>) => () => trpcHttp<Page>(url, 'devices.list', 'query', input, opts);
  const query = (path: string, input?: unknown) => () => trpcHttp(url, path, 'query', input, opts);
  return {
    authMe: query('auth.me'),
    listFirstPage: list({ limit: PAGE }),
    listOnlineByLastSeen: list({ limit: PAGE, status: 'online', sort: 'lastSeen', dir: 'desc' }),
    listSearch: list({ limit: PAGE, search: '-42' }),
    // A fleet of one page has no second page to jump to: then it is the first page again.
    listRandomPage: () => list({ limit: PAGE, ...(cursors.length > 0 ? { cursor: pick(cursors) } : {}) })(),
    devicePage: () => query('devices.get', { id: pick(ids) })(),
    overviewCounts: query('devices.counts'),
    overviewTopCpu: query('devices.topCpu'),
    overviewOffline: list({ limit: 8, status: 'offline', sort: 'lastSeen', dir: 'desc' }),
    overviewUptime: query('metrics.uptimeLeaderboard'),
    overviewStatusView: query('analytics.deviceStatusCounts'),
  };
}

/**
 * `calls` rounds, each calling every read once in turn, so a noisy moment of the machine hits
 * them all alike (the figures are side by side); `warmup` untimed rounds first (a cold JIT is not
 * what a running server has). The timed rounds are spread over `spreadMs`, a report interval,
 * so every agent pushes while the console reads: the load a real fleet puts under them.
 */
async function timeRounds<R extends Record<string, () => Promise<unknown>>>(reads: R, calls: number, warmup: number, spreadMs: number): Promise<Record<keyof R, LatencySummary>> {
  const histograms = Object.fromEntries(Object.keys(reads).map((name) => [name, new Histogram()]));
  let started = performance.now();
  for (let i = 0; i < warmup + calls; i++) {
    if (i === warmup) started = performance.now();
    for (const [name, read] of Object.entries(reads)) {
      const t0 = performance.now();
      await read();
      if (i >= warmup) histograms[name]!.record(performance.now() - t0);
    }
    if (i >= warmup) await sleep(started + ((i - warmup + 1) * spreadMs) / calls - performance.now());
  }
  return Object.fromEntries(Object.entries(histograms).map(([name, h]) => [name, h.summary()])) as Record<keyof R, LatencySummary>;
}

/** A viewer's reads with `devices` agents connected, every one of them with its latest sample visible. */
async function measureReads(server: ServerUnderTest, organizationId: string, devices: number, calls: number, spreadMs: number) {
  const person = await loginAs(server, organizationId, 'viewer');
  const opts = { headers: person.headers };
  // Every agent's first sample must be visible, or the pages measure emptier rows than they claim.
  let pages: Page[] = [];
  await waitFor('every device to show its latest sample', async () => {
    pages = await walk(server.url, opts, { limit: MAX_PAGE });
    return pages[0]!.total >= devices && pages.every((page) => page.items.every((row) => row.summary !== null));
  }, 10 * 60_000, 1_000);
  const ids = pages.flatMap((page) => page.items.map((row) => row.id));
  const cursors = (await walk(server.url, opts, { limit: PAGE })).map((page) => page.nextCursor).filter((c): c is string => c !== null);
  const firstPage = await trpcHttp<Page>(server.url, 'devices.list', 'query', { limit: PAGE }, opts);
  const firstPageKb = round(Buffer.byteLength(JSON.stringify(firstPage)) / 1024, 1);
  progress(`dashboard: ${calls} rounds of console reads with ${ids.length} devices over ${round(spreadMs / 1000, 1)} s (first page ${firstPageKb} KB)`);
  // Someone has a device page open meanwhile: its live values come over a subscription, whatever it costs the server.
  const socket = await connectRaw({ url: server.url, params: { sessionToken: person.sessionToken } });
  let livePageEvents = 0;
  socket.subscribe('live.devices', { deviceId: ids[0] }, () => livePageEvents++);
  let latency: Awaited<ReturnType<typeof timeRounds<ReturnType<typeof consoleReads>>>>;
  try {
    latency = await timeRounds(consoleReads(server.url, opts, cursors, ids), calls, Math.min(10, calls), spreadMs);
  } finally {
    socket.close();
  }
  if (livePageEvents === 0) throw new Error('the open device page got no live.devices event');
  // For scale, after the rounds (it would weigh on them): every device with its whole latest sample in
  // one call, which is what devices.list answered before it paged (less its list cache).
  const wholeFleet = () => server.admin<unknown[]>('admin.devices.list', 'query', { org: organizationId });
  const wholeFleetKb = round(Buffer.byteLength(JSON.stringify(await wholeFleet())) / 1024, 0);
  const wholeFleetRead = await timeRounds({ wholeFleet }, WHOLE_FLEET_CALLS, 2, 0);
  return { devices: ids.length, pageSize: PAGE, firstPageKb, livePageEvents, ...latency, wholeFleetKb, wholeFleet: wholeFleetRead.wholeFleet };
}

/**
 * A server of its own with `devices` devices written into its store before it starts (enrollment
 * is the `connected` benchmark's business), then a simulated agent per device connects and reports
 * through the real ingest path at `intervalMs`, as a fleet does while people read the console.
 */
async function ownServerReads(ctx: BenchContext, devices: number, calls: number, intervalMs: number, spreadMs: number) {
  const dataDir = await scratchDir('ninjait-bench-dashboard-');
  const scratch = ctx.stores.databaseUrl ? await scratchDatabase(ctx.stores.databaseUrl) : null;
  try {
    const t0 = performance.now();
    const provisioned = await provisionFleet({ databaseUrl: scratch?.url, dataDir }, devices, ctx.runId);
    const provisionSec = round((performance.now() - t0) / 1000, 1);
    const server = await startServerUnderTest({
      stores: ctx.stores, dataDir, ...(scratch ? { databaseUrl: scratch.url } : {}),
      env: { AGENT_INTERVAL_MS: String(intervalMs) }, ...(ctx.profileDir ? { cpuProfDir: ctx.profileDir } : {}),
    });
    try {
      const startPeriodMs = Math.round((devices / setting(ctx, 'connectPerSec', 500, 500)) * 1000);
      const fleet = startFleet({
        agents: devices, serverUrls: [server.url], token: 'provisioned', credentials: provisioned.credentials, runId: ctx.runId,
        intervalMs, startPeriodMs, durationMs: startPeriodMs + 30 * 60_000, sourceAddresses: loopbackAddresses(SOURCE_ADDRESSES),
        enrollAddresses: loopbackAddresses(ENROLL_ADDRESSES, 100), transport: 'raw', mode: 'interval', recordsPerPush: 1,
        heartbeat: true, enrollConcurrency: 64, commands: false,
      });
      try {
        const connectSec = round(await untilConnected(fleet, devices, 10 * 60_000), 1);
        fleet.mark();
        const reads = await measureReads(server, provisioned.organizationId, devices, calls, spreadMs);
        return { provisionSec, connectSec, intervalMs, ...reads, fleet: fleetFigures(await fleet.stop()) };
      } catch (error) {
        await fleet.stop();
        throw error;
      }
    } finally {
      await server.stop();
    }
  } finally {
    await scratch?.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** On the run's shared server (the smoke test): agents enroll with a token, as in `connected`. */
async function sharedServerReads(ctx: BenchContext, server: ServerUnderTest, devices: number, calls: number, intervalMs: number, spreadMs: number) {
  const { fleet } = await runSteadyFleet(server, ctx, { agents: devices, intervalMs, startPeriodMs: 0, steadyMs: 0 });
  try {
    const orgs = await server.admin<{ id: string; name: string }[]>('admin.organizations.list', 'query');
    const organizationId = orgs.filter((o) => o.name.startsWith('bench-')).at(-1)!.id;
    const reads = await measureReads(server, organizationId, devices, calls, spreadMs);
    return { provisionSec: null, connectSec: null, intervalMs, ...reads, fleet: fleetFigures(await fleet.stop()) };
  } catch (error) {
    await fleet.stop();
    throw error;
  }
}

/** A node process running `script`, not the `sh -c` npm wraps it in (whose command line names it too). */
const NODE_RUNNING = (script: RegExp) => new RegExp(`^\\S*node\\s.*${script.source}`);

/** RSS in MB of the group's first process whose command line matches, or null. */
function rssOf(pgid: number, command: RegExp): number | null {
  const member = processGroupMembers(pgid).find((process) => command.test(process.cmdline));
  const snapshot = member ? readProc(member.pid) : null;
  return snapshot ? round(snapshot.rssBytes / 1048576, 1) : null;
}

/**
 * `npm start` (prestart console check, then ninjait start: server + first-run owner + local agent) on an empty DATA_DIR until
 * the owner sees the local device with a sample in devices.list; baseline: /healthz answering. Then it idles
 * `idleMs` and the server's and the local agent's RSS are read: the embedded footprint a new admin meets.
 */
async function measureQuickStart(idleMs: number) {
  const dataDir = await scratchDir('ninjait-bench-start-');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const started = performance.now();
  // `npm start` itself, as the README's quick start runs it (its prestart check included).
  const child = spawn('npm', ['start', '--silent'], {
    cwd: REPO_ROOT, env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'warn', DATABASE_URL: '', REDIS_URL: '',
      // Polling devices.list would trip the per-user limit (100 per 15 min); it is not what is measured.
      RATE_LIMIT_MAX: '1000000' },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so stopping it stops the server and agent npm started too.
    detached: true,
  });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  try {
    const healthySec = await waitFor('/healthz', async () => {
      if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}: ${out.slice(-500)}`);
      return (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) && (performance.now() - started) / 1000;
    }, 120_000, 50);
    const password = await waitFor('the first-run password', () => /with password: (\S+)/.exec(out)?.[1], 60_000, 50);
    const email = /as (\S+@\S+) with password/.exec(out)?.[1] ?? 'owner@ninjait.local';
    const { sessionToken } = await trpcHttp<{ sessionToken: string }>(url, 'auth.login', 'mutation', { email, password });
    const firstSampleSec = await waitFor('the local device with a sample', async () => {
      if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}: ${out.trim().split('\n').at(-1)}`);
      const list = await trpcHttp<Page>(url, 'devices.list', 'query', undefined, { headers: { authorization: `Bearer ${sessionToken}` } });
      return list.items.some((d) => d.summary !== null) && (performance.now() - started) / 1000;
    }, 120_000, 100);
    progress(`dashboard: npm start idles ${idleMs / 1000} s after the first sample`);
    await sleep(idleMs);
    const idle = {
      idleSec: idleMs / 1000, serverRssMb: rssOf(child.pid!, NODE_RUNNING(/ninjait\.js start/)), agentRssMb: rssOf(child.pid!, NODE_RUNNING(/ninjait-agent\.js run/)),
      // The embedded ClickHouse runs in a process of its own (named so by its title): part of the footprint.
      chdbRssMb: rssOf(child.pid!, /^ninjait-chdb /),
    };
    return { healthySec: round(healthySec, 2), firstSampleVisibleSec: round(firstSampleSec, 2), idle };
  } finally {
    await stopProcessGroup(child);
    await removeDir(dataDir);
  }
}

const p95 = (l: LatencySummary) => `${fmt(l.p50Ms, 'ms')} / ${fmt(l.p95Ms, 'ms')}`;

export const dashboardBenchmark: Benchmark = {
  name: 'dashboard',
  summary: 'fleet overview, devices table pages and device page p95 at 10,000 devices; `npm start` to the first sample visible',
  async run(ctx) {
    const devices = setting(ctx, 'devices', 10_000, 20);
    const calls = setting(ctx, 'calls', 100, 10);
    const intervalMs = setting(ctx, 'intervalMs', 30_000, 5_000);
    const spreadMs = setting(ctx, 'readSpreadMs', intervalMs, 0);
    const reads = ctx.sharedServer
      ? await sharedServerReads(ctx, ctx.sharedServer, devices, calls, intervalMs, spreadMs)
      : await ownServerReads(ctx, devices, calls, intervalMs, spreadMs);
    progress('dashboard: npm start on an empty data directory');
    const quickStart = ctx.skipFreshServers ? null
      : await measureQuickStart(setting(ctx, 'quickStartIdleMs', 60_000, 3_000))
        .catch((error: Error) => ({ error: error.message, healthySec: null, firstSampleVisibleSec: null }));
    const floor = `auth.me ${p95(reads.authMe)}`;
    const overview = [reads.overviewCounts, reads.overviewTopCpu, reads.overviewOffline, reads.overviewUptime, reads.overviewStatusView];
    const slowest = overview.reduce((worst, l) => ((l.p95Ms ?? 0) > (worst.p95Ms ?? 0) ? l : worst));
    const row = (figure: string, value: string): Row => ({ benchmark: 'dashboard', figure, value, baseline: floor, goal: 'p95 ≤ 100 ms' });
    const rows: Row[] = [
      row(`devices.list first page (${reads.pageSize} of ${reads.devices}, ${reads.firstPageKb} KB): p50 / p95`, p95(reads.listFirstPage)),
      row('devices.list online, by last seen: p50 / p95', p95(reads.listOnlineByLastSeen)),
      row('devices.list name search: p50 / p95', p95(reads.listSearch)),
      row('devices.list random page (cursor): p50 / p95', p95(reads.listRandomPage)),
      row('device page (devices.get): p50 / p95', p95(reads.devicePage)),
      row('overview calls, slowest of 5: p50 / p95', p95(slowest)),
      { benchmark: 'dashboard', figure: `for scale: all ${reads.devices} devices + samples in one call (${fmt(reads.wholeFleetKb, 'KB', 0)}): p50 / p95`,
        value: p95(reads.wholeFleet), baseline: floor, goal: '-' },
    ];
    if (quickStart) rows.push({ benchmark: 'dashboard', figure: '`npm start` → first sample visible',
      value: 'error' in quickStart ? `failed: ${quickStart.error.slice(0, 60)}` : fmt(quickStart.firstSampleVisibleSec, 's', 2), baseline: `/healthz up ${fmt(quickStart.healthySec, 's', 2)}`, goal: '≤ 10 s' });
    if (quickStart && !('error' in quickStart)) rows.push({ benchmark: 'dashboard', figure: `\`npm start\` idle ${quickStart.idle.idleSec} s after the first sample: server RSS`,
      value: fmt(quickStart.idle.serverRssMb, 'MB', 0), baseline: `chdb's process ${fmt(quickStart.idle.chdbRssMb, 'MB', 0)}; local agent ${fmt(quickStart.idle.agentRssMb, 'MB', 0)}`, goal: '≤ 400 MB' });
    return { config: { devices, calls, intervalMs, readSpreadMs: spreadMs, pageSize: PAGE }, figures: { reads, quickStart }, rows };
  },
};
