import { newestProfile, summarizeProfile } from '../lib/cpuprofile.ts';
import { maxOf, seriesOf, sumOf } from '../lib/metrics.ts';
import { readProc } from '../lib/proc.ts';
import { progress, sleep, waitFor } from '../lib/progress.ts';
import { REPO_ROOT, withServer, type ServerUnderTest } from '../lib/server-process.ts';
import { round } from '../lib/stats.ts';
import { fmt, type Row } from '../lib/table.ts';
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
  const cpu0 = { value: readProc(server.pid)! };
  const { fleet, steadySec } = await runSteadyFleet(server, ctx, {
    agents, intervalMs: 3_600_000, startPeriodMs: Math.min(5_000, agents * 20), steadyMs: loadMs, mode: 'flood', recordsPerPush,
    onSteady: () => {
      cpu0.value = readProc(server.pid)!;
      lagTimer = setInterval(() => void pollLag(), 500);
    },
  });
  const atSteadyEnd = sumOf(await server.metrics(), INGESTED);
  const s = await fleet.stop();
  const loadEnded = performance.now();
  const cpu1 = readProc(server.pid)!;
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

export const ingestBenchmark: Benchmark = {
  name: 'ingest',
  summary: 'samples/s durably logged (acked) and drained to every sink, with drainer lag',
  async run(ctx) {
    const loadMs = setting(ctx, 'loadMs', 60_000, 4_000);
    const agents = setting(ctx, 'ingestAgents', 200, 10);
    const recordsPerPush = setting(ctx, 'recordsPerPush', 50, 10);
    const started = Date.now();
    const levels = await withServer(ctx, { stores: ctx.stores, ...(ctx.profileDir ? { cpuProfDir: ctx.profileDir } : {}) }, async (server) => {
      await sleep(1_000);
      progress(`ingest: baseline, 1 agent × ${recordsPerPush} records per push`);
      const baseline = await measureLoad(server, ctx, 1, recordsPerPush, loadMs / 2);
      progress(`ingest: ${agents} agents × 1 record per push`);
      const single = await measureLoad(server, ctx, agents, 1, loadMs);
      progress(`ingest: ${agents} agents × ${recordsPerPush} records per push`);
      const batched = await measureLoad(server, ctx, agents, recordsPerPush, loadMs);
      return [baseline, single, batched];
    });
    const profile = ctx.profileDir ? await newestProfile(ctx.profileDir, started) : null;
    const [baseline, single, batched] = levels as [typeof levels[0], typeof levels[0], typeof levels[0]];
    const rows: Row[] = [single, batched].map((l) => ({
      benchmark: 'ingest',
      figure: `${l.agents} agents × ${l.recordsPerPush}/push: logged · drained · lag max`,
      value: `${fmt(l.loggedPerSec, '/s', 0)} · ${fmt(l.drainedPerSec, '/s', 0)} · ${fmt(l.drainerLagSecondsMax, 's')}`,
      baseline: `1 agent × ${baseline.recordsPerPush}: ${fmt(baseline.loggedPerSec, '/s', 0)}`,
      goal: '30,000/s, lag < 5 s',
    }));
    return {
      config: { loadMs, agents, recordsPerPush, profiled: Boolean(profile) },
      figures: { baseline, singleRecordPushes: single, batchedPushes: batched, profile: profile ? await summarizeProfile(profile, REPO_ROOT) : null },
      rows,
    };
  },
};
