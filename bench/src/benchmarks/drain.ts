import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { migrate, openRelationalStore, type RelationalStore } from '@ninjait/server';
import { seriesOf, sumOf } from '../lib/metrics.ts';
import { progress, waitFor } from '../lib/progress.ts';
import { startServerUnderTest } from '../lib/server-process.ts';
import { round } from '../lib/stats.ts';
import { scratchDatabase } from '../lib/stores.ts';
import { machineShape, makeSample } from '../fleet/sample.ts';
import { setting, type BenchContext } from './types.ts';
import { scratchDir } from '../lib/scratch.ts';
import { newestProfile, profileClockUs, summarizeProfile, type ProfileWindow } from '../lib/cpuprofile.ts';
import { REPO_ROOT } from '../lib/server-process.ts';
import { fmt } from '../lib/table.ts';
import type { Benchmark } from './types.ts';

const DEVICES = 1_000;
const INSERT_CHUNK_ROWS = 100_000;
/** The server's default DRAIN_BATCH_ROWS: the scan baseline reads in the same batches. */
const DRAIN_BATCH_ROWS = 10_000;

/** An ingest log of `rows` realistic samples over DEVICES devices, written straight into the store. */
async function fillLog(db: RelationalStore, rows: number): Promise<void> {
  const { rows: [org] } = await db.query<{ id: string }>(`INSERT INTO organizations (name) VALUES ('bench drain') RETURNING id`);
  await db.query(
    `INSERT INTO devices (name, organization_id, status, machine_key) SELECT 'drain-' || g, $1, 'online', 'drain:' || g FROM generate_series(1, $2) g`,
    [org!.id, DEVICES],
  );
  await db.query('INSERT INTO device_ingest_state (device_id) SELECT id FROM devices');
  const payload = JSON.stringify(makeSample(machineShape(7), 1, 86_400));
  const perDevice = Math.ceil(rows / DEVICES);
  for (let from = 0; from < rows; from += INSERT_CHUNK_ROWS) {
    const n = Math.min(INSERT_CHUNK_ROWS, rows - from);
    // Row k (0-based) goes to device k % DEVICES with seq k / DEVICES + 1: unique (device, seq).
    await db.query(
      `INSERT INTO ingest_log (device_id, organization_id, seq, kind, collected_at, payload)
       SELECT d.id, d.organization_id, k / $4 + 1, 'sample', NOW() - make_interval(secs => ($5 - k / $4) * 30), $3::jsonb
       FROM generate_series($1::bigint, $2::bigint) k
       JOIN (SELECT id, organization_id, row_number() OVER (ORDER BY id) - 1 AS n FROM devices) d ON d.n = k % $4`,
      [from, from + n - 1, payload, DEVICES, perDevice],
    );
  }
  await db.query('UPDATE device_ingest_state s SET last_seq = $1', [perDevice]);
}

/** The drainer's read query alone over the whole log: the floor any sink adds to. */
async function scanRate(db: RelationalStore): Promise<number> {
  const started = performance.now();
  let cursor = 0;
  let total = 0;
  for (;;) {
    const { rows } = await db.query<{ id: number }>(
      `SELECT id, device_id, organization_id, seq, kind, collected_at, received_at, host(source_ip), payload
       FROM ingest_log WHERE id > $1 ORDER BY id LIMIT $2`, [cursor, DRAIN_BATCH_ROWS]);
    if (rows.length === 0) break;
    total += rows.length;
    cursor = rows.at(-1)!.id;
  }
  return total / ((performance.now() - started) / 1000);
}

const sinkOf = (labels: string) => /store="([^"]+)"/.exec(labels)?.[1] ?? labels;

/**
 * A pre-filled ingest log (as after a long sink outage) drained by a server that starts on it:
 * rows per second until every sink's lag is zero, timed from the server answering /healthz,
 * and per sink until its own lag first read zero (`--set drainBatchRows=N` sets DRAIN_BATCH_ROWS).
 */
export async function measureDrain(ctx: BenchContext) {
  const rows = setting(ctx, 'drainRows', 1_000_000, 20_000);
  const batchRows = ctx.overrides.drainBatchRows;
  const batch = batchRows ? Number(batchRows) : DRAIN_BATCH_ROWS;
  const dataDir = await scratchDir('ninjait-bench-drain-');
  const scratch = ctx.stores.databaseUrl ? await scratchDatabase(ctx.stores.databaseUrl) : null;
  try {
    progress(`drain: writing ${rows.toLocaleString('en-US')} rows into the ingest log`);
    const db = await openRelationalStore({ databaseUrl: scratch?.url, dataDir: join(dataDir, 'pglite') });
    const t0 = performance.now();
    await migrate(db);
    await fillLog(db, rows);
    const fillSec = (performance.now() - t0) / 1000;
    const baselineScanRowsPerSec = await scanRate(db);
    await db.close();
    progress(`drain: starting a server on it (${round(fillSec, 1)} s to fill)`);
    const spawned = performance.now();
    const server = await startServerUnderTest({
      stores: ctx.stores, dataDir, ...(scratch ? { databaseUrl: scratch.url } : {}),
      ...(batchRows ? { env: { DRAIN_BATCH_ROWS: batchRows } } : {}),
      ...(ctx.profileDir ? { cpuProfDir: ctx.profileDir } : {}),
    });
    try {
      const started = performance.now();
      const window: ProfileWindow = { startUs: profileClockUs(), endUs: 0 };
      let lag: Record<string, number> = {};
      let stableSince = performance.now();
      let sinkCount = 0;
      // Per sink, its batches written when first seen after /healthz and when it caught up: the
      // drainers start before the server answers, so a rate over that span leaves the start-up out.
      const firstSeen: Record<string, { sec: number; batches: number }> = {};
      const caughtUp: Record<string, { sec: number; batches: number }> = {};
      await waitFor('every sink to drain the log', async () => {
        const values = await server.metrics();
        const sec = (performance.now() - started) / 1000;
        lag = seriesOf(values, 'ninjait_drainer_lag_seconds');
        const batches = seriesOf(values, 'ninjait_store_write_duration_seconds_count');
        for (const [labels, value] of Object.entries(lag)) {
          const sink = sinkOf(labels);
          const written = { sec, batches: batches[labels] ?? 0 };
          firstSeen[sink] ??= written;
          if (value === 0) caughtUp[sink] ??= written;
        }
        const count = Object.keys(lag).length;
        if (count !== sinkCount) [sinkCount, stableSince] = [count, performance.now()];
        return count > 0 && Object.values(lag).every((v) => v === 0) && performance.now() - stableSince > 1_000;
      }, 30 * 60_000, 100);
      // The last second of the wait only proved no sink was missing.
      const drainSec = (performance.now() - started) / 1000 - 1;
      window.endUs = profileClockUs() - 1_000_000;
      const metrics = await server.metrics();
      const writeSec = seriesOf(metrics, 'ninjait_store_write_duration_seconds_sum');
      const sinks = Object.keys(lag).map(sinkOf);
      // Read back from the database, per row of the log: 1 when every sink's drainer found the rows another had read.
      const logReadsPerRow = round(sumOf(metrics, 'ninjait_ingest_log_rows_read_total') / rows, 2);
      return {
        logReadsPerRow,
        rows, sinks, batchRows: batchRows ?? 'default', fillSec: round(fillSec, 1), drainSec: round(drainSec, 2),
        drainedRowsPerSec: round(rows / Math.max(drainSec, 0.001), 0),
        baselineScanRowsPerSec: round(baselineScanRowsPerSec, 0),
        drainedRowsPerSecFromSpawn: round(rows / Math.max((performance.now() - spawned) / 1000 - 1, 0.001), 0),
        sinkDrainedRowsPerSec: Object.fromEntries(Object.entries(caughtUp).map(([sink, end]) => {
          const start = firstSeen[sink]!;
          const batches = Math.min(end.batches - start.batches, Math.ceil(rows / batch) - start.batches);
          return [sink, end.sec > start.sec && batches > 0 ? round(batches * batch / (end.sec - start.sec), 0) : null];
        })),
        sinkBatchesBeforeHealthz: Object.fromEntries(Object.entries(firstSeen).map(([sink, start]) => [sink, start.batches])),
        sinkWriteRowsPerSec: Object.fromEntries(Object.entries(writeSec).map(([labels, sec]) =>
          [sinkOf(labels), round(rows / Math.max(sec, 0.001), 0)])),
        window,
      };
    } finally {
      await server.stop();
    }
  } finally {
    await scratch?.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** The drain alone, with the server profiled over the drain when `--profile` is given. */
export const drainBenchmark: Benchmark = {
  name: 'drain',
  summary: 'a pre-filled ingest log (1,000,000 rows) drained by a fresh server: rows/s to every sink and to each',
  async run(ctx) {
    // The smoke test's shared server cannot start on a pre-filled log (backlog skips its drain the same way).
    if (ctx.skipFreshServers) {
      return { config: {}, figures: {}, rows: [{ benchmark: 'drain', figure: 'pre-filled log drained', value: 'skipped: needs a server of its own', baseline: '-', goal: '-' }] };
    }
    const started = Date.now();
    const { window, ...drain } = await measureDrain(ctx);
    // The server writes its profile when it exits: read after measureDrain stopped it.
    const profileFile = ctx.profileDir ? await newestProfile(ctx.profileDir, started) : null;
    const profile = profileFile ? await summarizeProfile(profileFile, REPO_ROOT, 30, window) : null;
    const each = Object.entries(drain.sinkDrainedRowsPerSec).map(([sink, perSec]) => `${sink} ${perSec === null ? 'before /healthz' : fmt(perSec, 'rows/s', 0)}`).join(', ');
    return {
      config: { rows: drain.rows, batchRows: drain.batchRows },
      figures: { drain, profile },
      rows: [{
        benchmark: 'drain', figure: `${drain.rows.toLocaleString('en-US')}-row ingest log drained (${drain.sinks.join(', ')})`,
        value: `${fmt(drain.drainedRowsPerSec, 'rows/s', 0)} (${each}; each row read ${drain.logReadsPerRow}×)`, baseline: `read-only scan ${fmt(drain.baselineScanRowsPerSec, 'rows/s', 0)}`,
        goal: '≥ 100,000 rows/s to ClickHouse',
      }],
    };
  },
};
