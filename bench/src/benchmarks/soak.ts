import { rm } from 'node:fs/promises';
import { openAnalyticsStore } from '@ninjait/server/stores/analytics';
import { startFleet, loopbackAddresses, untilConnected } from '../fleet/fleet.ts';
import { maxOf, sumOf } from '../lib/metrics.ts';
import { loopDelayBetween } from '../lib/loop-delay.ts';
import { readServerProc } from '../lib/proc.ts';
import { progress, sleep, waitFor } from '../lib/progress.ts';
import { createFleetToken, startServerUnderTest, type ServerUnderTest } from '../lib/server-process.ts';
import { round, slope } from '../lib/stats.ts';
import { fmt, type Row } from '../lib/table.ts';
import { scratchDatabase } from '../lib/stores.ts';
import { scratchDir } from '../lib/scratch.ts';
import { ENROLL_ADDRESSES, SOURCE_ADDRESSES, fleetFigures } from './connected.ts';
import { setting, type BenchContext, type Benchmark } from './types.ts';

const INGESTED_SAMPLES = 'ninjait_records_ingested_total{kind="sample"}';

/** One reading of the server during the soak. */
interface Reading { atSec: number; rssMb: number; heapMb: number; lagSec: number; lagRows: number; connected: number }

/** What ClickHouse holds after the soak: every sample once, counted once for billing, no gaps. */
interface Stored { rawRows: number; rawFinal: number; distinct: number; usage: number; devices: number; devicesWithGaps: number }

/** 3 s, 10 min: a soak's length in the unit people say it in. */
const duration = (ms: number) => (ms < 120_000 ? `${round(ms / 1000, 1)} s` : `${round(ms / 60_000, 1)} min`);

const mean = (values: readonly number[]) => (values.length ? values.reduce((s, v) => s + v, 0) / values.length : 0);

/**
 * Reads the server every `everyMs` until stopped: its RSS (the process itself; chdb's process
 * apart), V8 heap, the worst drainer's lag and the connected agents. The lag gauge is read often,
 * since its peaks are what the goal bounds.
 */
function watchServer(server: ServerUnderTest, everyMs: number, startedMs: number) {
  const readings: Reading[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const metrics = await server.metrics().catch(() => null);
      const rss = readServerProc(server.pid)?.rssBytes ?? 0;
      if (metrics) {
        readings.push({
          atSec: (performance.now() - startedMs) / 1000, rssMb: rss / 1024 / 1024,
          heapMb: sumOf(metrics, 'ninjait_process_nodejs_heap_size_used_bytes') / 1024 / 1024,
          lagSec: maxOf(metrics, 'ninjait_drainer_lag_seconds'), lagRows: sumOf(metrics, 'ninjait_drainer_lag_rows'),
          connected: sumOf(metrics, 'ninjait_connected_agents'),
        });
      }
      await sleep(everyMs);
    }
  })();
  return { readings, async stop() { stopped = true; await loop; } };
}

/** RSS at the start and the end of the measured window (means of a few readings, single ones vary with the heap's state). */
function rssTrend(readings: readonly Reading[], fromSec: number) {
  const window = readings.filter((r) => r.atSec >= fromSec);
  const edge = Math.max(1, Math.min(5, Math.floor(window.length / 4)));
  const start = mean(window.slice(0, edge).map((r) => r.rssMb));
  const end = mean(window.slice(-edge).map((r) => r.rssMb));
  return {
    readings: window.length, startMb: round(start, 1), endMb: round(end, 1), maxMb: round(Math.max(0, ...window.map((r) => r.rssMb)), 1),
    growthPercent: round(start > 0 ? ((end - start) / start) * 100 : 0, 2),
    slopeMbPerHour: round(slope(window.map((r) => [r.atSec / 3600, r.rssMb] as const)), 2),
    heapStartMb: round(mean(window.slice(0, edge).map((r) => r.heapMb)), 1), heapEndMb: round(mean(window.slice(-edge).map((r) => r.heapMb)), 1),
  };
}

/** Counts the samples in the stopped server's embedded ClickHouse (chdb in DATA_DIR). */
async function storedInClickhouse(dataDir: string): Promise<Stored> {
  const analytics = openAnalyticsStore({ dataDir });
  try {
    const [raw] = await analytics.query<{ n: string }>('SELECT count() AS n FROM device_metrics_raw');
    const [final] = await analytics.query<{ n: string; u: string; d: string }>(
      'SELECT count() AS n, uniqExact(device_id, seq) AS u, uniqExact(device_id) AS d FROM device_metrics_raw FINAL');
    const [usage] = await analytics.query<{ n: string }>('SELECT sum(samples) AS n FROM metric_usage_daily');
    // Simulated agents number their samples 1, 2, 3...: a device whose highest is not its count lost one.
    const [gaps] = await analytics.query<{ n: string }>(
      'SELECT count() AS n FROM (SELECT device_id, max(seq) AS top, uniqExact(seq) AS held FROM device_metrics_raw FINAL GROUP BY device_id) WHERE top != held');
    return {
      rawRows: Number(raw?.n ?? 0), rawFinal: Number(final?.n ?? 0), distinct: Number(final?.u ?? 0), usage: Number(usage?.n ?? 0),
      devices: Number(final?.d ?? 0), devicesWithGaps: Number(gaps?.n ?? 0),
    };
  } finally {
    await analytics.close();
  }
}

/**
 * The server soak (issue #20): N agents at a 30 s interval for an hour against one server, read
 * every few seconds. Its RSS after the warm-up must stay flat (≤ 5 % growth), the drainers' lag
 * never above 5 s, and at the end, once the fleet stopped and the drainers caught up, ClickHouse
 * must hold every sample the server logged exactly once (counted once in the usage table too),
 * with no device missing one in between (the simulated agents number theirs 1, 2, 3...).
 *
 * It runs on a server, a data folder and a scratch database of its own, kept past the server's
 * stop so the embedded ClickHouse can be opened and counted. The smoke test's shared server
 * cannot be stopped: there the figures are read but the stores are not counted.
 */
export const soakBenchmark: Benchmark = {
  name: 'soak',
  summary: '10,000 agents at 30 s for an hour: server RSS flat, drainer lag < 5 s, every sample stored once',
  async run(ctx: BenchContext) {
    const agents = setting(ctx, 'soakAgents', 10_000, 3);
    const intervalMs = setting(ctx, 'soakIntervalMs', 30_000, 1_000);
    const soakMs = setting(ctx, 'soakMs', 3_600_000, 3_000);
    const warmupMs = setting(ctx, 'soakWarmupMs', 600_000, 1_000);
    const everyMs = setting(ctx, 'soakReadEveryMs', 5_000, 250);
    const enrollPerSec = setting(ctx, 'enrollPerSec', 250, 100);
    const own = !ctx.sharedServer;
    progress(`soak: ${agents} agents at ${intervalMs / 1000} s for ${duration(soakMs)} (${duration(warmupMs)} of warm-up)`);

    const dataDir = own ? await scratchDir('ninjait-bench-soak-') : null;
    const database = own && ctx.stores.databaseUrl ? await scratchDatabase(ctx.stores.databaseUrl) : null;
    let server: ServerUnderTest | null = ctx.sharedServer ?? null;
    try {
      server ??= await startServerUnderTest({
        stores: ctx.stores, env: { AGENT_INTERVAL_MS: String(intervalMs) },
        ...(dataDir ? { dataDir } : {}), ...(database ? { databaseUrl: database.url } : {}),
      });
      const before = await server.metrics();
      const ingestedBefore = before.get(INGESTED_SAMPLES) ?? 0;
      const { token } = await createFleetToken(server, agents);
      const fleet = startFleet({
        agents, serverUrls: server.instances.map((i) => i.url), token, runId: ctx.runId, intervalMs,
        startPeriodMs: Math.round((agents / enrollPerSec) * 1000), durationMs: soakMs + 30 * 60_000,
        sourceAddresses: loopbackAddresses(SOURCE_ADDRESSES), enrollAddresses: loopbackAddresses(ENROLL_ADDRESSES, 100),
        transport: 'raw', mode: 'interval', recordsPerPush: 1, heartbeat: true, enrollConcurrency: 16, commands: false,
      });
      const enrollSec = await untilConnected(fleet, agents, 20 * 60_000).catch(async (error: unknown) => {
        await fleet.stop();
        throw error;
      });
      progress(`  all ${agents} connected after ${enrollSec.toFixed(1)} s; soaking`);
      const soakStarted = performance.now();
      const cpuBefore = readServerProc(server.pid)!;
      const watch = watchServer(server, everyMs, soakStarted);
      const metricsBefore = await server.metrics();
      for (let left = soakMs; left > 0; left -= 60_000) {
        await sleep(Math.min(60_000, left));
        const last = watch.readings.at(-1);
        if (soakMs >= 120_000 && last) progress(`  ${Math.round(last.atSec / 60)} of ${soakMs / 60_000} min: RSS ${last.rssMb.toFixed(0)} MB, lag ${last.lagSec.toFixed(1)} s, ${last.connected} connected`);
      }
      const cpuAfter = readServerProc(server.pid)!;
      const metricsAfter = await server.metrics();
      await watch.stop();
      const s = await fleet.stop();
      const soakSec = (performance.now() - soakStarted) / 1000;
      // Everything the server logged reaches every store before the count.
      await waitFor('the drainers to catch up', async () => sumOf(await server!.metrics(), 'ninjait_drainer_lag_rows') === 0, 10 * 60_000, 500);
      const ingested = ((await server.metrics()).get(INGESTED_SAMPLES) ?? 0) - ingestedBefore;
      let stored: Stored | null = null;
      if (own) {
        await server.stop();
        server = null;
        stored = await storedInClickhouse(dataDir!);
      }

      const readings = watch.readings;
      const warmupSec = Math.min(warmupMs, soakMs / 2) / 1000;
      const rss = rssTrend(readings, warmupSec);
      const lagMaxSec = round(Math.max(0, ...readings.map((r) => r.lagSec)), 2);
      const lagAfterWarmupSec = round(Math.max(0, ...readings.filter((r) => r.atSec >= warmupSec).map((r) => r.lagSec)), 2);
      const loopDelay = loopDelayBetween(metricsBefore, metricsAfter);
      const exact = stored ? stored.distinct === ingested && stored.rawFinal === ingested && stored.usage === ingested && ingested >= s.records : null;
      const figures = {
        agents, intervalMs, soakSec: round(soakSec, 0), warmupSec, enrollSec: round(enrollSec, 1), readEveryMs: everyMs,
        rss, lagMaxSec, lagAfterWarmupSec, eventLoopDelay: loopDelay,
        serverCpuPercentOfCore: round(((cpuAfter.cpuSec - cpuBefore.cpuSec) / soakSec) * 100, 1),
        samples: { acked: s.records, pushErrors: s.pushErrors, loggedByServer: ingested, stored, exactlyOnce: exact },
        fleet: fleetFigures(s),
        readings: readings.map((r) => ({ atSec: round(r.atSec, 0), rssMb: round(r.rssMb, 1), heapMb: round(r.heapMb, 1), lagSec: round(r.lagSec, 2), connected: r.connected })),
      };
      const storedText = stored
        ? `${stored.distinct.toLocaleString('en-US')} distinct · ${stored.rawFinal.toLocaleString('en-US')} rows · ${stored.usage.toLocaleString('en-US')} counted · ${stored.devicesWithGaps} devices with gaps`
        : 'not counted (the shared server keeps running)';
      const rows: Row[] = [
        { benchmark: 'soak', figure: `${agents} agents at ${intervalMs / 1000} s for ${duration(soakSec * 1000)}: server RSS after warm-up → end (growth)`, value: `${fmt(rss.startMb, 'MB')} → ${fmt(rss.endMb, 'MB')} (${fmt(rss.growthPercent, '%', 1)}; ${fmt(rss.slopeMbPerHour, 'MB/h')})`, baseline: `heap ${fmt(rss.heapStartMb, 'MB')} → ${fmt(rss.heapEndMb, 'MB')}`, goal: '≤ 5 % growth' },
        { benchmark: 'soak', figure: 'drainer lag max (after warm-up)', value: `${fmt(lagMaxSec, 's', 2)} (${fmt(lagAfterWarmupSec, 's', 2)})`, baseline: `event loop p99 ${fmt(loopDelay.p99Ms, 'ms')}`, goal: '< 5 s' },
        { benchmark: 'soak', figure: 'samples logged · acked · in ClickHouse', value: `${ingested.toLocaleString('en-US')} · ${s.records.toLocaleString('en-US')} · ${storedText}`, baseline: `${s.pushErrors} push errors`, goal: 'each once' },
      ];
      return { config: { agents, intervalMs, soakMs, warmupMs, everyMs, stores: ctx.stores.databaseUrl ? 'postgresql' : 'pglite' }, figures, rows };
    } finally {
      if (server && own) await server.stop();
      await database?.drop();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    }
  },
};
