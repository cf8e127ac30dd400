import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { migrate, openRelationalStore, type RelationalStore } from '@ninjait/server';
import { seriesOf } from '../lib/metrics.ts';
import { progress, waitFor } from '../lib/progress.ts';
import { startServerUnderTest } from '../lib/server-process.ts';
import { round } from '../lib/stats.ts';
import { scratchDatabase } from '../lib/stores.ts';
import { machineShape, makeSample } from '../fleet/sample.ts';
import { setting, type BenchContext } from './types.ts';
import { scratchDir } from '../lib/scratch.ts';

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

/**
 * A pre-filled ingest log (as after a long sink outage) drained by a server that starts on it:
 * rows per second until every sink's lag is zero, timed from the server answering /healthz.
 */
export async function measureDrain(ctx: BenchContext) {
  const rows = setting(ctx, 'drainRows', 1_000_000, 20_000);
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
    const server = await startServerUnderTest({
      stores: ctx.stores, dataDir, ...(scratch ? { databaseUrl: scratch.url } : {}),
    });
    try {
      const started = performance.now();
      let lag: Record<string, number> = {};
      let stableSince = performance.now();
      let sinkCount = 0;
      await waitFor('every sink to drain the log', async () => {
        lag = seriesOf(await server.metrics(), 'ninjait_drainer_lag_seconds');
        const count = Object.keys(lag).length;
        if (count !== sinkCount) [sinkCount, stableSince] = [count, performance.now()];
        return count > 0 && Object.values(lag).every((v) => v === 0) && performance.now() - stableSince > 1_000;
      }, 30 * 60_000, 100);
      // The last second of the wait only proved no sink was missing.
      const drainSec = (performance.now() - started) / 1000 - 1;
      const metrics = await server.metrics();
      const writeSec = seriesOf(metrics, 'ninjait_store_write_duration_seconds_sum');
      const sinks = Object.keys(lag).map((labels) => /store="([^"]+)"/.exec(labels)?.[1] ?? labels);
      return {
        rows, sinks, fillSec: round(fillSec, 1), drainSec: round(drainSec, 2),
        drainedRowsPerSec: round(rows / Math.max(drainSec, 0.001), 0),
        baselineScanRowsPerSec: round(baselineScanRowsPerSec, 0),
        sinkWriteRowsPerSec: Object.fromEntries(Object.entries(writeSec).map(([labels, sec]) =>
          [/store="([^"]+)"/.exec(labels)?.[1] ?? labels, round(rows / Math.max(sec, 0.001), 0)])),
      };
    } finally {
      await server.stop();
    }
  } finally {
    await scratch?.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
}
