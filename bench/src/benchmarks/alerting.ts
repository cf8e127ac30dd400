import { startWebhookReceiver, type ReceivedPost } from '@ninjait/server/testing';
import { rm } from 'node:fs/promises';
import { loopbackAddresses, startFleet, untilConnected, type Fleet } from '../fleet/fleet.ts';
import { machineShape, makeInventory, makeSample } from '../fleet/sample.ts';
import { connectRaw } from '../fleet/transport.ts';
import { trpcHttp } from '../lib/http-trpc.ts';
import { seriesOf, sumOf, type MetricValues } from '../lib/metrics.ts';
import { progress, sleep, waitFor } from '../lib/progress.ts';
import { provisionFleet } from '../lib/provision.ts';
import { startServerUnderTest, type ServerUnderTest } from '../lib/server-process.ts';
import { Histogram, round } from '../lib/stats.ts';
import { scratchDatabase } from '../lib/stores.ts';
import { fmt, type Row } from '../lib/table.ts';
import { ENROLL_ADDRESSES, fleetFigures, SOURCE_ADDRESSES } from './connected.ts';
import { setting, type BenchContext, type Benchmark } from './types.ts';
import { scratchDir } from '../lib/scratch.ts';

interface Settings {
  agents: number;
  /** Devices beside the fleet that the bench drives over the threshold one at a time, to time sample → webhook. */
  probes: number;
  intervalMs: number;
  /** Each of the two phases (no rules, then ten rules) runs this long once the fleet is connected. */
  phaseMs: number;
  connectPerSec: number;
  /** Whether to stop the whole fleet and count what the offline rule sends (needs minutes: the rule's minimum is 1 m). */
  offline: boolean;
}

/**
 * Ten conditions per device, as a fleet policy would hold: nine that the simulated machines
 * (CPU 5–65 %, memory 30–80 %, disks 40–60 %) never meet, so they cost evaluation without
 * opening alerts, and the probes' rule (CPU above 95 %), which only a probe meets. The offline
 * rule is the tenth and runs on the scheduler, not per sample.
 */
const QUIET_RULES: { name: string; when: string; forSec?: number; clear?: number }[] = [
  { name: 'cpu sustained', when: 'cpu > 97', forSec: 300, clear: 80 },
  { name: 'cpu pegged', when: 'cpu >= 99.5', forSec: 60 },
  { name: 'memory full', when: 'memory > 99' },
  { name: 'memory pressure', when: 'memory > 97', forSec: 600, clear: 90 },
  { name: 'disk full', when: 'disk > 99' },
  { name: 'root disk filling', when: 'disk:/ > 98', forSec: 600 },
  { name: 'data disk filling', when: 'disk:/data > 98', forSec: 600 },
  { name: 'nic errors', when: 'network_errors > 1000' },
];
const PROBE_RULE = { name: 'cpu critical', when: 'cpu > 95' };
const OFFLINE_RULE = { name: 'offline', when: 'offline > 1m' };
const CHANNEL = 'bench-hook';

const LAG = 'ninjait_drainer_lag_seconds';
const SAMPLES = 'ninjait_records_ingested_total{kind="sample"}';
const CPU = 'ninjait_process_process_cpu_seconds_total';

type Notification = { event?: string; count?: number; alert?: { deviceId?: string } | null };
type Received = { atMs: number; body: Notification };

/** The receiver's POSTs with their bodies as notifications (a body that is not JSON counts as empty). */
const bodies = (posts: readonly ReceivedPost[]): Received[] => posts.map((post) => ({ atMs: post.atMs, body: (post.json ?? {}) as Notification }));

/** Samples the server's drainer lag per store every second while `during` runs: the worst and the p99 of each. */
async function watchLag<T>(server: ServerUnderTest, during: () => Promise<T>): Promise<{ result: T; lag: Record<string, { maxSec: number; p99Sec: number | null }> }> {
  const seen = new Map<string, Histogram>();
  let running = true;
  const watcher = (async () => {
    while (running) {
      const values = await server.metrics().catch(() => null);
      for (const [store, seconds] of Object.entries(values ? seriesOf(values, LAG) : {})) {
        const histogram = seen.get(store) ?? new Histogram();
        histogram.record(seconds * 1000);
        seen.set(store, histogram);
      }
      await sleep(1_000);
    }
  })();
  try {
    return { result: await during(), lag: lagSummary(seen) };
  } finally {
    running = false;
    await watcher;
  }
}

function lagSummary(seen: Map<string, Histogram>) {
  const out: Record<string, { maxSec: number; p99Sec: number | null }> = {};
  for (const [store, histogram] of seen) {
    const summary = histogram.summary();
    out[store.replace(/^\{store="(.*)"\}$/, '$1')] = { maxSec: round((summary.maxMs ?? 0) / 1000), p99Sec: summary.p99Ms === null ? null : round(summary.p99Ms / 1000) };
  }
  return out;
}

/** Samples logged per second and server CPU seconds per second over `ms`. */
async function measurePhase(server: ServerUnderTest, ms: number) {
  const before: MetricValues = await server.metrics();
  const started = performance.now();
  const { lag } = await watchLag(server, () => sleep(ms));
  const after = await server.metrics();
  const seconds = (performance.now() - started) / 1000;
  return {
    seconds: round(seconds, 1),
    samplesPerSec: round(((after.get(SAMPLES) ?? 0) - (before.get(SAMPLES) ?? 0)) / seconds, 0),
    serverCpuCores: round((sumOf(after, CPU) - sumOf(before, CPU)) / seconds, 2),
    lag,
  };
}

/**
 * Drives one probe device over the threshold and times the sample's collection to the webhook's
 * arrival at the receiver: evaluation (a consumer of the ingest log), the alert's transaction,
 * the notification outbox and the signed POST. Probes go one at a time so none is digested.
 */
async function timeProbes(server: ServerUnderTest, probes: { deviceId: string; deviceSecret: string }[], received: () => Received[], firstShape: number) {
  const latency = new Histogram();
  const failures: string[] = [];
  for (const [i, probe] of probes.entries()) {
    const socket = await connectRaw({ url: server.url, params: probe });
    try {
      const shape = machineShape(firstShape + i);
      const sample = makeSample(shape, 1, 3_600);
      sample.cpu.loadPercent = 99;
      const collectedAt = Date.now();
      await socket.mutation('agent.push', { records: [{ seq: 1, collectedAt, kind: 'sample', sample }] });
      const arrived = await waitFor(`the webhook for probe ${i}`, () =>
        received().find((r) => r.body.event === 'alert.opened' && r.body.alert?.deviceId === probe.deviceId), 30_000, 20).catch((error: Error) => {
        failures.push(error.message);
        return null;
      });
      if (arrived) latency.record(arrived.atMs - collectedAt);
    } finally {
      socket.close();
    }
  }
  return { probes: probes.length, failures: failures.length, failureExamples: failures.slice(0, 3), sampleToWebhook: latency.summary() };
}

/**
 * Stops the whole fleet at once and counts the POSTs the offline rule causes until every device's
 * alert is represented (one by one or inside digests), or `waitMs` passes.
 */
async function fleetOffline(fleet: Fleet, agents: number, received: () => Received[], waitMs: number) {
  const from = received().length;
  const stoppedAt = Date.now();
  await fleet.stop();
  const offline = () => received().slice(from).filter((r) => r.body.event === 'alert.opened' || r.body.event === 'alert.digest');
  const represented = () => offline().reduce((sum, r) => sum + (r.body.event === 'alert.digest' ? r.body.count ?? 0 : 1), 0);
  await waitFor(`offline notifications for ${agents} devices`, () => represented() >= agents, waitMs, 1_000).catch(() => null);
  const posts = offline();
  return {
    devices: agents, posts: posts.length, alertsRepresented: represented(),
    digests: posts.filter((r) => r.body.event === 'alert.digest').length,
    firstPostAfterSec: posts[0] ? round((posts[0].atMs - stoppedAt) / 1000, 1) : null,
    lastPostAfterSec: posts.at(-1) ? round((posts.at(-1)!.atMs - stoppedAt) / 1000, 1) : null,
  };
}

async function createRules(server: ServerUnderTest, org: string, rules: { name: string; when: string; forSec?: number; clear?: number }[], channels: string[]) {
  for (const rule of rules) {
    await server.admin('admin.alerting.rules.create', 'mutation', { org, ...rule, severity: 'critical', channels });
  }
}

async function run(ctx: BenchContext, s: Settings) {
  const dataDir = await scratchDir('ninjait-bench-alerting-');
  const scratch = !ctx.sharedServer && ctx.stores.databaseUrl ? await scratchDatabase(ctx.stores.databaseUrl) : null;
  const receiver = await startWebhookReceiver();
  let server: ServerUnderTest | null = null;
  let fleet: Fleet | null = null;
  try {
    // Agents and probes are written to the store beforehand: enrollment is the `connected` benchmark's business.
    const provisioned = ctx.sharedServer ? null : await provisionFleet({ databaseUrl: scratch?.url, dataDir }, s.agents + s.probes, ctx.runId);
    server = ctx.sharedServer ?? await startServerUnderTest({
      stores: ctx.stores, dataDir, ...(scratch ? { databaseUrl: scratch.url } : {}),
      env: { AGENT_INTERVAL_MS: String(s.intervalMs) },
    });
    const org = provisioned?.organizationId ?? (await server.admin<{ id: string }>('admin.organizations.create', 'mutation', { name: `bench-alerting-${ctx.runId}-${Date.now()}` })).id;
    const credentials = provisioned?.credentials ?? await enrollThroughToken(server, org, s.agents + s.probes);
    const startPeriodMs = Math.round((s.agents / s.connectPerSec) * 1000);
    fleet = startFleet({
      agents: s.agents, serverUrls: [server.url], runId: ctx.runId, intervalMs: s.intervalMs, startPeriodMs,
      durationMs: startPeriodMs + 60 * 60_000, sourceAddresses: loopbackAddresses(SOURCE_ADDRESSES),
      enrollAddresses: loopbackAddresses(ENROLL_ADDRESSES, 100), transport: 'raw', mode: 'interval', recordsPerPush: 1,
      heartbeat: true, enrollConcurrency: 16, commands: false, token: 'provisioned', credentials: credentials.slice(0, s.agents),
    });
    const connectSec = await untilConnected(fleet, s.agents, 10 * 60_000);
    progress(`  alerting: ${s.agents} agents connected after ${connectSec.toFixed(1)} s; baseline phase without rules`);
    const withoutRules = await measurePhase(server, s.phaseMs);
    await server.admin('admin.alerting.channels.create', 'mutation', { org, name: CHANNEL, kind: 'webhook', target: receiver.url });
    await createRules(server, org, [...QUIET_RULES, PROBE_RULE], [CHANNEL]);
    if (s.offline) await createRules(server, org, [OFFLINE_RULE], [CHANNEL]);
    progress(`  alerting: ${QUIET_RULES.length + 1 + (s.offline ? 1 : 0)} rules on every device; measuring the evaluator`);
    const withRules = await measurePhase(server, s.phaseMs);
    progress(`  alerting: ${s.probes} probes over the threshold, one at a time`);
    const probes = await timeProbes(server, credentials.slice(s.agents), () => bodies(receiver.received), s.agents);
    let offline: Awaited<ReturnType<typeof fleetOffline>> | null = null;
    if (s.offline) {
      progress(`  alerting: stopping all ${s.agents} agents; counting what the offline rule sends`);
      offline = await fleetOffline(fleet, s.agents, () => bodies(receiver.received), 6 * 60_000);
    }
    const snapshot = await fleet.stop();
    fleet = null;
    return { agents: s.agents, connectSec: round(connectSec, 1), withoutRules, withRules, probes, offline, fleet: fleetFigures(snapshot) };
  } finally {
    await fleet?.stop();
    if (server && !ctx.sharedServer) await server.stop();
    await receiver.close();
    await scratch?.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** On a shared server (the smoke test): the probes and agents enroll with a token into the bench's organization. */
async function enrollThroughToken(server: ServerUnderTest, organizationId: string, count: number) {
  const { token } = await server.admin<{ token: string }>('admin.tokens.create', 'mutation', { org: organizationId, name: 'bench alerting', maxUses: count, expiresInSec: 3_600 });
  const out: { deviceId: string; deviceSecret: string }[] = [];
  for (let i = 0; i < count; i++) {
    // The answer carries more (organization, next sequence, interval): the socket takes the credentials only.
    const { deviceId, deviceSecret } = await trpcHttp<{ deviceId: string; deviceSecret: string }>(server.url, 'agent.enroll', 'mutation',
      { token, inventory: makeInventory(machineShape(900_000 + i), `alerting-${Date.now()}`) });
    out.push({ deviceId, deviceSecret });
  }
  return out;
}

export const alertingBenchmark: Benchmark = {
  name: 'alerting',
  summary: '10,000 devices × 10 conditions: evaluator lag, sample → webhook p99, one fleet-wide offline event',
  async run(ctx) {
    const s: Settings = {
      agents: setting(ctx, 'alertAgents', 10_000, 50),
      probes: setting(ctx, 'probes', 50, 5),
      // The agents' interval in production: 10,000 devices then report ~333 samples/s, each through ten conditions.
      intervalMs: setting(ctx, 'alertIntervalMs', 30_000, 1_000),
      phaseMs: setting(ctx, 'phaseMs', 60_000, 10_000),
      connectPerSec: setting(ctx, 'connectPerSec', 500, 500),
      offline: setting(ctx, 'offline', 1, 0) === 1,
    };
    const figures = await run(ctx, s);
    const lagOf = (phase: typeof figures.withRules, store: string) => phase.lag[store] ?? { maxSec: 0, p99Sec: null };
    const baselineStore = Object.keys(figures.withRules.lag).find((store) => store !== 'alerts') ?? 'relational';
    const rows: Row[] = [
      {
        benchmark: 'alerting', figure: `${s.agents} devices × 10 conditions at ${fmt(figures.withRules.samplesPerSec, 'samples/s', 0)}: evaluator lag max (p99)`,
        value: `${fmt(lagOf(figures.withRules, 'alerts').maxSec, 's')} (${fmt(lagOf(figures.withRules, 'alerts').p99Sec, 's')})`,
        baseline: `${baselineStore} sink ${fmt(lagOf(figures.withRules, baselineStore).maxSec, 's')}`, goal: '< 2 s',
      },
      {
        benchmark: 'alerting', figure: 'server CPU with ten rules on every device',
        value: fmt(figures.withRules.serverCpuCores, 'cores', 2), baseline: `no rules ${fmt(figures.withoutRules.serverCpuCores, 'cores', 2)}`, goal: '-',
      },
      {
        benchmark: 'alerting', figure: 'sample → signed webhook at a local receiver p50 / p99',
        value: `${fmt(figures.probes.sampleToWebhook.p50Ms, 'ms')} / ${fmt(figures.probes.sampleToWebhook.p99Ms, 'ms')}${figures.probes.failures ? ` (${figures.probes.failures} failed)` : ''}`,
        baseline: '-', goal: 'p99 < 5 s',
      },
      {
        benchmark: 'alerting', figure: `all ${s.agents} devices offline at once: webhook POSTs`,
        value: figures.offline ? `${figures.offline.posts} POSTs for ${figures.offline.alertsRepresented} alerts (${figures.offline.digests} digests)` : 'not run (quick)',
        baseline: `${s.agents} alerts`, goal: 'bounded (digests)',
      },
    ];
    return { config: { ...s }, figures, rows };
  },
};
