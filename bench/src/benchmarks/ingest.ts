import { newestProfile, summarizeProfile } from '../lib/cpuprofile.ts';
import { maxOf, seriesOf, sumOf } from '../lib/metrics.ts';
import { readServerProc } from '../lib/proc.ts';
import { progress, sleep, waitFor } from '../lib/progress.ts';
import { REPO_ROOT, withServer, type ServerUnderTest } from '../lib/server-process.ts';
import { round } from '../lib/stats.ts';
import { fmt, type Row } from '../lib/table.ts';
import { deleteStream, natsForBench } from '../lib/nats.ts';
import { meanValuesPerSample } from '../lib/sample-values.ts';
import { measureZabbixServerIngest, ZABBIX_SENDER_VALUES_PER_REQUEST, type TrapperFigures } from '../lib/zabbix-load.ts';
import { zabbixServerUnavailable } from '../lib/zabbix-server.ts';
import { fleetFigures, runSteadyFleet } from './connected.ts';
import { setting, type BenchContext, type Benchmark } from './types.ts';

const INGESTED = 'ninjait_records_ingested_total';
const LAG = 'ninjait_drainer_lag_seconds';

/**
 * `agents` agents push back to back (one push in flight each, like the real sender) for
 * `loadMs`; then we wait for every drainer to catch up. Logged = acked by the server;
 * drained = logged rows written to every sink.
 */
async function measureLoad(server: ServerUnderTest, ctx: BenchContext, agents: number, recordsPerPush: number, loadMs: number) {
  const before = sumOf(await server.metrics(), INGESTED);
  let maxLag = 0;
  let lagTimer: NodeJS.Timeout | undefined;
  const pollLag = async () => {
    const m = await server.metrics().catch(() => null);
    if (m) maxLag = Math.max(maxLag, maxOf(m, LAG));
  };
  const cpu0 = { value: readServerProc(server.pid)! };
  const { fleet, steadySec } = await runSteadyFleet(server, ctx, {
    agents, intervalMs: 3_600_000, startPeriodMs: Math.min(5_000, agents * 20), steadyMs: loadMs, mode: 'flood', recordsPerPush,
    onSteady: () => {
      cpu0.value = readServerProc(server.pid)!;
      lagTimer = setInterval(() => void pollLag(), 500);
    },
  });
  const atSteadyEnd = sumOf(await server.metrics(), INGESTED);
  const s = await fleet.stop();
  const loadEnded = performance.now();
  const cpu1 = readServerProc(server.pid)!;
  // Drained: every sink's lag back at zero and nothing new logged.
  await waitFor('the drainers to catch up', async () => {
    const m = await server.metrics();
    maxLag = Math.max(maxLag, maxOf(m, LAG));
    return maxOf(m, LAG) === 0 && Object.keys(seriesOf(m, LAG)).length > 0;
  }, 10 * 60_000, 100);
  clearInterval(lagTimer);
  const drainTailSec = (performance.now() - loadEnded) / 1000;
  const after = sumOf(await server.metrics(), INGESTED);
  const loggedPerSec = s.records / steadySec;
  return {
    agents, recordsPerPush, loadSec: round(steadySec, 1),
    recordsAcked: s.records, loggedPerSec: round(loggedPerSec, 0),
    serverIngestedDuringRun: atSteadyEnd - before, serverIngestedTotal: after - before,
    drainerLagSecondsMax: round(maxLag, 2), drainTailSec: round(drainTailSec, 2),
    // Steady records over the time it took until they were also in every sink.
    drainedPerSec: round(s.records / (steadySec + drainTailSec), 0),
    serverCpuPercentOfCore: round(((cpu1.cpuSec - cpu0.value.cpuSec) / steadySec) * 100, 1),
    pushLatency: s.ackLatency.summary(),
    fleet: fleetFigures(s),
  };
}

type Level = Awaited<ReturnType<typeof measureLoad>>;

/** The three loads on one server: one agent (the baseline), many with one record per push, many with batches. */
async function measureLevels(ctx: BenchContext, env: Record<string, string>, label: string, settings: { loadMs: number; agents: number; recordsPerPush: number }) {
  const { loadMs, agents, recordsPerPush } = settings;
  return withServer(ctx, { stores: ctx.stores, env, ...(ctx.profileDir ? { cpuProfDir: ctx.profileDir } : {}) }, async (server) => {
    await sleep(1_000);
    progress(`ingest (${label}): baseline, 1 agent × ${recordsPerPush} records per push`);
    const baseline = await measureLoad(server, ctx, 1, recordsPerPush, loadMs / 2);
    progress(`ingest (${label}): ${agents} agents × 1 record per push`);
    const single = await measureLoad(server, ctx, agents, 1, loadMs);
    progress(`ingest (${label}): ${agents} agents × ${recordsPerPush} records per push`);
    const batched = await measureLoad(server, ctx, agents, recordsPerPush, loadMs);
    return [baseline, single, batched] as [Level, Level, Level];
  });
}

/**
 * The same loads on the PostgreSQL log (PGlite when no DATABASE_URL) and, when a NATS answers,
 * on the JetStream log (INGEST_LOG_URL): the two logs side by side, each with its own server.
 */
export const ingestBenchmark: Benchmark = {
  name: 'ingest',
  summary: 'samples/s durably logged (acked) and drained to every sink, with drainer lag; PostgreSQL and NATS JetStream logs side by side',
  async run(ctx) {
    const settings = {
      loadMs: setting(ctx, 'loadMs', 60_000, 4_000),
      agents: setting(ctx, 'ingestAgents', 200, 10),
      recordsPerPush: setting(ctx, 'recordsPerPush', 50, 10),
    };
    const started = Date.now();
    const relationalLog = ctx.stores.databaseUrl ? 'PostgreSQL log' : 'PGlite log';
    const [baseline, single, batched] = await measureLevels(ctx, {}, relationalLog, settings);
    const profile = ctx.profileDir ? await newestProfile(ctx.profileDir, started) : null;
    const natsUrl = ctx.sharedServer ? null : await natsForBench();
    let jetStream: [Level, Level, Level] | null = null;
    if (natsUrl) {
      const stream = `NINJAIT_BENCH_${ctx.runId}`;
      try {
        jetStream = await measureLevels(ctx, { INGEST_LOG_URL: natsUrl, INGEST_LOG_STREAM: stream }, 'JetStream log', settings);
      } finally {
        await deleteStream(natsUrl, stream);
      }
    } else progress('ingest: no NATS answers (NATS_URL or 127.0.0.1:4222): the JetStream log is not measured');
    // Zabbix server 6.0 on the same PostgreSQL, fed the same samples as values (lib/sample-values.ts).
    const valuesPerSample = meanValuesPerSample(settings.agents);
    let zabbixSkipped = ctx.sharedServer ? 'it needs a server of its own' : zabbixServerUnavailable(ctx.stores.databaseUrl);
    let zabbix: TrapperFigures | null = null;
    if (!zabbixSkipped) {
      const load = { senders: setting(ctx, 'zabbixSenders', 8, 4), valuesPerRequest: ZABBIX_SENDER_VALUES_PER_REQUEST, loadMs: settings.loadMs };
      progress(`ingest (Zabbix server 6.0): ${settings.agents} hosts, ${load.senders} senders × ${load.valuesPerRequest} values per request`);
      // Our figures stand without it: a peer that fails is reported, not the benchmark failed.
      zabbix = await measureZabbixServerIngest(ctx.stores.databaseUrl!, settings.agents, load).catch((error: unknown) => {
        zabbixSkipped = `it failed: ${(error as Error).message}`;
        return null;
      });
    }
    if (zabbixSkipped) progress(`ingest: Zabbix server is not measured: ${zabbixSkipped}`);
    const row = (l: Level, log: string, baselineText: string): Row => ({
      benchmark: 'ingest',
      figure: `${log}: ${l.agents} agents × ${l.recordsPerPush}/push: logged · drained · lag max`,
      value: `${fmt(l.loggedPerSec, '/s', 0)} · ${fmt(l.drainedPerSec, '/s', 0)} · ${fmt(l.drainerLagSecondsMax, 's')}`,
      baseline: baselineText, goal: '30,000/s, lag < 5 s',
    });
    const rows: Row[] = [single, batched].map((l) => row(l, relationalLog, `1 agent × ${baseline.recordsPerPush}: ${fmt(baseline.loggedPerSec, '/s', 0)}`));
    if (jetStream) {
      const [, natsSingle, natsBatched] = jetStream;
      rows.push(row(natsSingle, 'JetStream log', `${relationalLog} ${fmt(single.loggedPerSec, '/s', 0)} · ${fmt(single.drainedPerSec, '/s', 0)}`));
      rows.push(row(natsBatched, 'JetStream log', `${relationalLog} ${fmt(batched.loggedPerSec, '/s', 0)} · ${fmt(batched.drainedPerSec, '/s', 0)}`));
    }
    if (zabbix) {
      const ours = (perSec: number) => fmt(perSec * valuesPerSample, 'values/s', 0);
      rows.push({
        benchmark: 'ingest',
        figure: `Zabbix server 6.0, same PostgreSQL: ${zabbix.hosts} hosts, ${zabbix.senders} senders × ${zabbix.valuesPerRequest} values: accepted · written`,
        value: `${fmt(zabbix.acceptedPerSec, 'values/s', 0)} · ${fmt(zabbix.writtenPerSec, 'values/s', 0)}`,
        baseline: `ours ${batched.agents} × ${batched.recordsPerPush}/push (${round(valuesPerSample, 1)} values a sample): ${ours(batched.loggedPerSec)} · ${ours(batched.drainedPerSec)}`
          + ` (×${round(batched.loggedPerSec * valuesPerSample / zabbix.acceptedPerSec)} · ×${round(batched.drainedPerSec * valuesPerSample / zabbix.writtenPerSec)})`,
        goal: '-',
      });
    }
    return {
      config: { ...settings, profiled: Boolean(profile), natsUrl: natsUrl ? 'set' : null },
      figures: {
        baseline, singleRecordPushes: single, batchedPushes: batched,
        jetStream: jetStream ? { baseline: jetStream[0], singleRecordPushes: jetStream[1], batchedPushes: jetStream[2] } : null,
        zabbixServer: zabbix ? { valuesPerSample: round(valuesPerSample, 2), ...zabbix } : { skipped: zabbixSkipped },
        profile: profile ? await summarizeProfile(profile, REPO_ROOT) : null,
      },
      rows,
    };
  },
};
