import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopProcess } from '../lib/agent-process.ts';
import { trpcHttp } from '../lib/http-trpc.ts';
import { loginAs } from '../lib/people.ts';
import { progress, waitFor } from '../lib/progress.ts';
import { freePort, REPO_ROOT, withServer, type ServerUnderTest } from '../lib/server-process.ts';
import { Histogram, round } from '../lib/stats.ts';
import { fmt, type Row } from '../lib/table.ts';
import { runSteadyFleet } from './connected.ts';
import { setting, type BenchContext, type Benchmark } from './types.ts';

type Latest = { id: string; latest: unknown };

async function timeCalls(n: number, call: () => Promise<unknown>) {
  const h = new Histogram();
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await call();
    h.record(performance.now() - t0);
  }
  return h.summary();
}

/** Console reads with `devices` agents connected and reporting: list, device page, and auth.me as the floor. */
async function measureReads(server: ServerUnderTest, ctx: BenchContext, devices: number, calls: number) {
  const { fleet, enrollSec } = await runSteadyFleet(server, ctx, {
    agents: devices, intervalMs: 30_000, startPeriodMs: Math.round((devices / 250) * 1000), steadyMs: 0,
  });
  try {
    const orgs = await server.admin<{ id: string; name: string }[]>('admin.organizations.list', 'query');
    const org = orgs.filter((o) => o.name.startsWith('bench-')).at(-1)!;
    const person = await loginAs(server, org.id, 'viewer');
    const opts = { headers: person.headers };
    // Every agent's first sample must be visible, or the list measures an emptier page than it claims.
    let list: Latest[] = [];
    await waitFor('every device to show its latest sample', async () => {
      list = await trpcHttp<Latest[]>(server.url, 'devices.list', 'query', undefined, opts);
      return list.length >= devices && list.every((d) => d.latest !== null);
    }, 5 * 60_000, 1_000);
    const responseBytes = Buffer.byteLength(JSON.stringify(list));
    progress(`dashboard: ${calls} calls each with ${list.length} devices listed (${Math.round(responseBytes / 1024)} KB)`);
    const authMe = await timeCalls(calls, () => trpcHttp(server.url, 'auth.me', 'query', undefined, opts));
    const deviceList = await timeCalls(calls, () => trpcHttp(server.url, 'devices.list', 'query', undefined, opts));
    const devicePage = await timeCalls(calls, () =>
      trpcHttp(server.url, 'devices.get', 'query', { id: list[Math.floor(Math.random() * list.length)]!.id }, opts));
    return { devices: list.length, enrollSec: round(enrollSec, 1), listResponseKb: round(responseBytes / 1024, 0), authMe, deviceList, devicePage };
  } finally {
    await fleet.stop();
  }
}

/**
 * `npm start` (ninjait start: server + first-run owner + local agent) on an empty DATA_DIR until
 * the owner sees the local device with a sample in devices.list; baseline: /healthz answering.
 */
async function measureQuickStart() {
  const dataDir = await mkdtemp(join(tmpdir(), 'ninjait-bench-start-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'server/src/cli/main.ts'), 'start'], {
    cwd: REPO_ROOT, env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'warn', DATABASE_URL: '', REDIS_URL: '',
      // Polling devices.list would trip the per-user limit (100 per 15 min); it is not what is measured.
      RATE_LIMIT_MAX: '1000000' },
    stdio: ['ignore', 'pipe', 'pipe'],
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
      const list = await trpcHttp<Latest[]>(url, 'devices.list', 'query', undefined, { headers: { authorization: `Bearer ${sessionToken}` } });
      return list.some((d) => d.latest !== null) && (performance.now() - started) / 1000;
    }, 120_000, 100);
    return { healthySec: round(healthySec, 2), firstSampleVisibleSec: round(firstSampleSec, 2) };
  } finally {
    await stopProcess(child);
    await rm(dataDir, { recursive: true, force: true });
  }
}

export const dashboardBenchmark: Benchmark = {
  name: 'dashboard',
  summary: 'devices.list and device page p95 at 10,000 devices; `npm start` to the first sample visible',
  async run(ctx) {
    const devices = setting(ctx, 'devices', 10_000, 20);
    const calls = setting(ctx, 'calls', 100, 10);
    const reads = await withServer(ctx, { stores: ctx.stores }, (server) => measureReads(server, ctx, devices, calls));
    progress('dashboard: npm start on an empty data directory');
    const quickStart = ctx.skipFreshServers ? null
      : await measureQuickStart().catch((error: Error) => ({ error: error.message, healthySec: null, firstSampleVisibleSec: null }));
    const rows: Row[] = [
      { benchmark: 'dashboard', figure: `devices.list, ${reads.devices} devices: p50 / p95`, value: `${fmt(reads.deviceList.p50Ms, 'ms')} / ${fmt(reads.deviceList.p95Ms, 'ms')}`, baseline: `auth.me ${fmt(reads.authMe.p50Ms, 'ms')} / ${fmt(reads.authMe.p95Ms, 'ms')}`, goal: 'p95 ≤ 100 ms' },
      { benchmark: 'dashboard', figure: `device page (devices.get): p50 / p95`, value: `${fmt(reads.devicePage.p50Ms, 'ms')} / ${fmt(reads.devicePage.p95Ms, 'ms')}`, baseline: `auth.me ${fmt(reads.authMe.p50Ms, 'ms')} / ${fmt(reads.authMe.p95Ms, 'ms')}`, goal: 'p95 ≤ 100 ms' },
    ];
    if (quickStart) rows.push({ benchmark: 'dashboard', figure: '`npm start` → first sample visible',
      value: 'error' in quickStart ? `failed: ${quickStart.error.slice(0, 60)}` : fmt(quickStart.firstSampleVisibleSec, 's', 2), baseline: `/healthz up ${fmt(quickStart.healthySec, 's', 2)}`, goal: '≤ 10 s' });
    return { config: { devices, calls }, figures: { reads, quickStart }, rows };
  },
};
