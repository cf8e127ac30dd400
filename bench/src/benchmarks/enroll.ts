import { Agent } from 'node:http';
import { PROTOCOL_VERSION } from '@ninjait/shared';
import { machineShape, makeInventory } from '../fleet/sample.ts';
import { loopbackAddresses } from '../fleet/fleet.ts';
import { newestProfile, profileClockUs, summarizeProfile, type ProfileWindow } from '../lib/cpuprofile.ts';
import { trpcHttp } from '../lib/http-trpc.ts';
import { seriesOf, type MetricValues } from '../lib/metrics.ts';
import { readServerProc } from '../lib/proc.ts';
import { progress } from '../lib/progress.ts';
import { createFleetToken, REPO_ROOT, withServer, type ServerUnderTest } from '../lib/server-process.ts';
import { Histogram, round, type LatencySummary } from '../lib/stats.ts';
import { fmt, type Row } from '../lib/table.ts';
import { setting, type BenchContext, type Benchmark } from './types.ts';

/**
 * The server's own rate-limit defaults (env.ts): a roll-out meets the limits a production server
 * has, not the lifted ones the other benchmarks run with.
 */
const PRODUCTION_LIMITS = { RATE_LIMIT_MAX: '100', RATE_LIMIT_WINDOW_SEC: '900' };

/** What one phase of calls did: how many, how fast, at what latency, at what CPU of the server. */
interface Phase {
  calls: number;
  ok: number;
  failures: Record<string, number>;
  wallSec: number;
  perSec: number;
  latency: LatencySummary;
  serverCpuPercentOfCore: number;
}

/**
 * `calls` calls with at most `concurrency` in flight, each from a source address in turn (a NAT
 * is one address); `call(i)` makes the i-th. Failures are counted by code, not retried: a refused
 * enrollment is a figure, and a real agent would try again minutes later.
 */
async function runPhase(server: ServerUnderTest, calls: number, concurrency: number, call: (i: number) => Promise<unknown>): Promise<Phase> {
  const latency = new Histogram();
  const failures: Record<string, number> = {};
  let ok = 0;
  let next = 0;
  const cpuBefore = readServerProc(server.pid)!;
  const started = performance.now();
  const worker = async () => {
    for (let i = next++; i < calls; i = next++) {
      const t0 = performance.now();
      try {
        await call(i);
        latency.record(performance.now() - t0);
        ok++;
      } catch (error) {
        const code = (error as { code?: string }).code ?? 'NETWORK';
        failures[code] = (failures[code] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, calls) }, worker));
  const wallSec = (performance.now() - started) / 1000;
  const cpuSec = readServerProc(server.pid)!.cpuSec - cpuBefore.cpuSec;
  return {
    calls, ok, failures, wallSec: round(wallSec, 2), perSec: round(ok / wallSec, 1), latency: latency.summary(),
    serverCpuPercentOfCore: round((cpuSec / wallSec) * 100, 1),
  };
}

/**
 * Baseline first (the floor of an unauthenticated tRPC call at the same concurrency: `auth.session`
 * without a session answers null), then every endpoint enrolls once with the fleet token.
 */
async function measureEnrollment(ctx: BenchContext, server: ServerUnderTest, s: { devices: number; concurrency: number; sources: number }) {
  const addresses = loopbackAddresses(s.sources);
  // Keep-alive like an agent's HTTP client; sockets are per source address, so one agent each.
  const agents = addresses.map(() => new Agent({ keepAlive: true, maxSockets: s.concurrency }));
  const via = (i: number) => ({ localAddress: addresses[i % addresses.length]!, agent: agents[i % agents.length]! });
  try {
    const { token, organizationId } = await createFleetToken(server, s.devices);
    const baselineCalls = Math.min(s.devices, 5_000);
    progress(`enroll: baseline, ${baselineCalls} auth.session calls at concurrency ${s.concurrency}`);
    const baseline = await runPhase(server, baselineCalls, s.concurrency, (i) => trpcHttp(server.url, 'auth.session', 'query', undefined, via(i)));
    progress(`enroll: ${s.devices} endpoints enroll with one token at concurrency ${s.concurrency} from ${s.sources} address(es)`);
    const window: ProfileWindow = { startUs: profileClockUs(), endUs: 0 };
    const metricsBefore = await server.metrics();
    const enrollment = await runPhase(server, s.devices, s.concurrency, (i) => trpcHttp(server.url, 'agent.enroll', 'mutation', {
      token, inventory: makeInventory(machineShape(i), ctx.runId), protocolVersion: PROTOCOL_VERSION,
    }, via(i)));
    window.endUs = profileClockUs();
    const statements = statementsBetween(metricsBefore, await server.metrics());
    const statementsPerEnrollment = round(Object.values(statements).reduce((sum, n) => sum + n, 0) / Math.max(enrollment.ok, 1), 2);
    const devices = await server.admin<unknown[]>('admin.devices.list', 'query', { org: organizationId });
    progress(`enroll: ${enrollment.ok} enrolled at ${enrollment.perSec}/s; ${devices.length} devices in the organization`);
    return { baseline, enrollment, devicesInOrganization: devices.length, statementsPerEnrollment, statements, window };
  } finally {
    for (const agent of agents) agent.destroy();
  }
}

/** Relational statements the server ran between two scrapes, by operation (BEGIN and COMMIT are not counted): unlike a rate, not moved by the machine's load. */
function statementsBetween(before: MetricValues, after: MetricValues): Record<string, number> {
  const name = 'ninjait_store_query_duration_seconds_count';
  const was = seriesOf(before, name);
  const out: Record<string, number> = {};
  for (const [labels, value] of Object.entries(seriesOf(after, name))) {
    if (labels.includes('store="relational"')) out[labels] = value - (was[labels] ?? 0);
  }
  return out;
}

const failureText = (p: Phase) => Object.entries(p.failures).map(([code, n]) => `${n} ${code}`).join(', ');

export const enrollBenchmark: Benchmark = {
  name: 'enroll',
  summary: 'a roll-out: N endpoints behind one address enroll with one token through agent.enroll: devices/s, p50 / p99, server CPU',
  async run(ctx) {
    const s = {
      devices: setting(ctx, 'enrollDevices', 10_000, 500),
      concurrency: setting(ctx, 'enrollConcurrency', 64, 16),
      // One address: a roll-out by GPO or MDM often reaches the server through one NAT.
      sources: setting(ctx, 'enrollSources', 1, 1),
      // 0: the lifted limits of the other benchmarks, to measure the server alone.
      productionLimits: setting(ctx, 'enrollProductionLimits', 1, 1) !== 0,
    };
    const started = Date.now();
    const measured = await withServer(ctx, {
      stores: ctx.stores, env: s.productionLimits ? PRODUCTION_LIMITS : {}, ...(ctx.profileDir ? { cpuProfDir: ctx.profileDir } : {}),
    }, (server) => measureEnrollment(ctx, server, s));
    // The server writes its profile when it exits: read after withServer stopped it.
    const profileFile = ctx.profileDir && !ctx.sharedServer ? await newestProfile(ctx.profileDir, started) : null;
    const profile = profileFile ? await summarizeProfile(profileFile, REPO_ROOT, 30, measured.window) : null;
    const { baseline, enrollment } = measured;
    const baselineText = `auth.session ${fmt(baseline.perSec, '/s', 0)}, ${fmt(baseline.latency.p50Ms, 'ms')} / ${fmt(baseline.latency.p99Ms, 'ms')}`;
    const where = `${s.devices} endpoints, ${s.sources === 1 ? 'one address' : `${s.sources} addresses`}, ${s.concurrency} at a time`;
    const row = (figure: string, value: string, base: string, goal: string): Row => ({ benchmark: 'enroll', figure, value, baseline: base, goal });
    const failures = failureText(enrollment);
    const rows: Row[] = [
      row(`${where}: enrolled · devices/s`, `${enrollment.ok} of ${s.devices}${failures ? ` (${failures})` : ''} · ${fmt(enrollment.perSec, '/s', 0)}`, baselineText, '≥ 500/s'),
      row('agent.enroll p50 / p99', `${fmt(enrollment.latency.p50Ms, 'ms')} / ${fmt(enrollment.latency.p99Ms, 'ms')}`, baselineText, '-'),
      row('server CPU while enrolling', fmt(enrollment.serverCpuPercentOfCore, '% of a core'), `auth.session ${fmt(baseline.serverCpuPercentOfCore, '% of a core')}`, '-'),
      row('relational statements per enrollment (without BEGIN / COMMIT)', fmt(measured.statementsPerEnrollment, '', 2), '-', '-'),
    ];
    const { window: _window, ...figures } = measured;
    return { config: s, figures: { ...figures, profile }, rows };
  },
};
