import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createScratchDatabase, relationalEngines } from '../../../test-support/databases.ts';
import { fakeSampleRecord } from '../../../test-support/harness.ts';
import { migrate, openRelationalStore, type RelationalStore } from '../../stores/relational/index.ts';
import { createMetrics, type Metrics } from '../../platform/obs/metrics.ts';
import { createLogger } from '../../platform/obs/logger.ts';
import { createRelationalSink } from './sinks/relational-sink.ts';
import { failure, type IngestRow, type Sink, type WriteResult } from './sinks/types.ts';
import { createDrainer, type Drainer, type IsolationSettings } from './drainer.ts';
import { createIngestLog, type IngestLog } from './ingest-log.ts';
import { createIngestLogReader } from './log-reader.ts';

/**
 * The drainer against a real log and the real relational sink, behind a gate that makes the
 * store fail the way stores do: a real PostgreSQL refusal (22P02) for a poisoned device's rows,
 * a real refused connection, or a sink that throws. Rows of other devices must be written,
 * the poisoned ones quarantined, and failures that look like the store's must never quarantine.
 */

type Gate = (rows: readonly IngestRow[]) => Promise<WriteResult | null>;

describe.each(relationalEngines())('drainer isolation on %s', (engine) => {
  let dir: string;
  let database: Awaited<ReturnType<typeof createScratchDatabase>>;
  let db: RelationalStore;
  let log: IngestLog;
  let metrics: Metrics;
  const devices: Record<'p' | 'q' | 'r', { deviceId: string; organizationId: string }> = {} as never;
  const seqs = { p: 0, q: 0, r: 0 };
  let drainer: Drainer | null = null;
  let sinkNumber = 0;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ninjait-drainer-'));
    database = engine === 'postgres' ? await createScratchDatabase() : null;
    db = await openRelationalStore({ databaseUrl: database?.url, dataDir: join(dir, 'pglite') });
    await migrate(db);
    for (const name of ['p', 'q', 'r'] as const) {
      const { rows: [org] } = await db.query<{ id: string }>('INSERT INTO organizations (name) VALUES ($1) RETURNING id', [`drainer-${name}`]);
      const { rows: [device] } = await db.query<{ id: string }>(
        `INSERT INTO devices (name, organization_id, status) VALUES ($1, $2, 'offline') RETURNING id`, [name, org!.id]);
      await db.query('INSERT INTO device_ingest_state (device_id) VALUES ($1)', [device!.id]);
      devices[name] = { deviceId: device!.id, organizationId: org!.id };
    }
    metrics = createMetrics();
    log = createIngestLog(db, { groupCommitMs: 5, metrics });
  }, 60_000);
  afterEach(async () => {
    await drainer?.stop();
    drainer = null;
  });
  afterAll(async () => {
    await db.close();
    await database?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  /** Appends one fresh sample per named device, in this order, in one group commit. */
  const append = (...names: ('p' | 'q' | 'r')[]) => Promise.all(names.map((name) => log.append(devices[name], [fakeSampleRecord(++seqs[name])], null)));

  /** A drainer (each test its own sink name, so its own cursor from the log's start) over the gated relational sink. */
  function start(gate: { current: Gate }, isolation: Partial<IsolationSettings> = {}): { drainer: Drainer; name: string } {
    const real = createRelationalSink(db);
    const name = `gated-${++sinkNumber}`;
    const sink: Sink = { ...real, name, write: async (rows, signal) => (await gate.current(rows)) ?? real.write(rows, signal) };
    drainer = createDrainer({
      db, reader: createIngestLogReader(db, { capacityRows: 1_000 }), sink, instanceId: 'test', batchRows: 1_000, pollMs: 10,
      maxBackoffMs: 50, metrics, log: createLogger('silent'), isolation: { refusedRowPauseMs: 1, ...isolation },
    });
    drainer.start();
    return { drainer, name };
  }

  const quarantined = async (sink: string) => (await db.query<{ deviceId: string; seq: number; reason: string }>(
    'SELECT device_id AS "deviceId", seq, reason FROM ingest_quarantine WHERE sink = $1 ORDER BY log_id', [sink])).rows;
  const position = async (sink: string) => (await db.query<{ position: number }>('SELECT position FROM drain_cursors WHERE sink = $1', [sink])).rows[0]?.position ?? 0;
  const logEnd = async () => (await db.query<{ id: number }>('SELECT coalesce(max(id), 0)::int AS id FROM ingest_log')).rows[0]!.id;
  const errorsOf = async (sink: string) => (await metrics.storeErrors.get()).values.find((value) => value.labels.store === sink)?.value ?? 0;
  const until = async (condition: () => Promise<boolean>, what: string, ms = 15_000) => {
    const end = Date.now() + ms;
    while (!(await condition())) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const caughtUp = (running: Drainer) => Promise.race([
    running.caughtUp(), new Promise((_, reject) => setTimeout(() => reject(new Error('the drainer did not catch up')), 15_000)),
  ]);

  /** What PostgreSQL answers to a value it cannot take: a real 22P02. */
  const refusal = async () => failure(await db.query("SELECT 'not a number'::int").then(() => new Error('no error'), (error: unknown) => error));
  /** What a store that cannot be reached gives: a real ECONNREFUSED. */
  const unreachable = () => new Promise<WriteResult>((resolve) => {
    createConnection({ host: '127.0.0.1', port: 1 }).on('error', (error) => resolve(failure(error)));
  });
  const hasP = (rows: readonly IngestRow[]) => rows.some((row) => row.deviceId === devices.p.deviceId);

  it('writes the other devices\' rows and quarantines the rows the store refuses', async () => {
    await append('q', 'p', 'r', 'p', 'q');
    const { drainer: running, name } = start({ current: async (rows) => (hasP(rows) ? refusal() : null) });
    await caughtUp(running);
    const set = await quarantined(name);
    expect(set.map((row) => [row.deviceId, row.seq])).toEqual([[devices.p.deviceId, seqs.p - 1], [devices.p.deviceId, seqs.p]]);
    expect(set[0]!.reason).toMatch(/^the gated-\d+ store refused it: invalid input syntax for type integer/);
    expect(await position(name)).toBe(await logEnd());
    expect((await metrics.recordsQuarantined.get()).values.find((value) => value.labels.sink === name)?.value).toBe(2);
    const { rows } = await db.query<{ name: string; seen: boolean }>('SELECT name, last_seen IS NOT NULL AS seen FROM devices ORDER BY name');
    expect(rows).toEqual([{ name: 'p', seen: false }, { name: 'q', seen: true }, { name: 'r', seen: true }]);
  });

  it('leaves the lag to the instance that took its sink over (no stale value in /metrics)', async () => {
    await append('q', 'r');
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let first = true;
    const { name } = start({ current: async () => {
      if (first) {
        first = false;
        await held;
      }
      return null;
    } });
    const lagOf = async () => (await metrics.drainerLagSeconds.get()).values.find((value) => value.labels.store === name)?.value;
    await until(async () => (await lagOf()) !== undefined, 'the lag to be reported');
    // Another instance takes the sink while this one writes (its lease ran out meanwhile).
    await db.query(`UPDATE drain_cursors SET owner = 'another-instance', lease_until = NOW() + interval '1 hour' WHERE sink = $1`, [name]);
    release();
    await until(async () => (await lagOf()) === undefined, 'the lag to be left to the new holder');
  });

  it('treats a sink that throws like one that fails, and isolates the row it throws on', async () => {
    await append('q', 'p', 'r');
    const { drainer: running, name } = start({
      current: async (rows) => {
        if (hasP(rows)) throw new TypeError("Cannot read properties of undefined (reading 'loadPercent')");
        return null;
      },
    });
    await caughtUp(running);
    expect((await quarantined(name)).filter((row) => row.deviceId === devices.p.deviceId)).toHaveLength(seqs.p);
    expect((await quarantined(name)).every((row) => row.deviceId === devices.p.deviceId)).toBe(true);
  });

  it('quarantines nothing when the store refuses the rows of every device: that is the store, and the drainer lags', async () => {
    await append('q', 'r');
    const gate = { current: (async () => refusal()) as Gate };
    const { drainer: running, name } = start(gate, { suspectAfterFailures: 1 });
    await until(async () => (await errorsOf(name)) >= 4, 'four failed steps');
    expect(await quarantined(name)).toEqual([]);
    expect(await position(name)).toBe(0);
    gate.current = async (rows) => (hasP(rows) ? refusal() : null); // fixed, but for the poisoned device's rows
    await caughtUp(running);
    expect((await quarantined(name)).every((row) => row.deviceId === devices.p.deviceId)).toBe(true);
  });

  it('never quarantines while every write fails with an error that looks transient, even with the store\'s health check passing', async () => {
    await append('q', 'r', 'q');
    const gate = { current: (async () => unreachable()) as Gate };
    // Two tries, not one: the gate opens while the drainer may be mid-step, and a row that failed
    // once just before the rows after it were written would be set aside by a one-try rule.
    const { drainer: running, name } = start(gate, { suspectAfterFailures: 1, transientRowAttempts: 2, transientRowMinMs: 0 });
    await until(async () => (await errorsOf(name)) >= 4, 'four failed steps');
    expect(await quarantined(name)).toEqual([]);
    expect(await position(name)).toBe(0);
    gate.current = async () => null;
    await caughtUp(running);
    expect(await quarantined(name)).toEqual([]);
  });

  it('sets aside a row that keeps failing transiently on its own while the rows after it are written, only after several tries', async () => {
    await append('q', 'p', 'r');
    const started = Date.now();
    const { drainer: running, name } = start({ current: async (rows) => (hasP(rows) ? unreachable() : null) },
      { suspectAfterFailures: 2, transientRowAttempts: 3, transientRowMinMs: 300 });
    await caughtUp(running);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    const set = await quarantined(name);
    expect(set.length).toBe(seqs.p);
    expect(set.at(-1)!.reason).toMatch(/ECONNREFUSED.*failing alone for \d+ min while the rows after it were written/);
  });

  it('takes rows whose wake-up came while it was reading, without waiting out its poll', async () => {
    await append('q');
    const real = createIngestLogReader(db, { capacityRows: 1_000 });
    let armed = true;
    let running: Drainer | null = null;
    // The server wakes the drainers when an append commits; this one commits while the drainer's
    // read of an empty log is on its way back, before it starts its idle wait.
    const reader: typeof real = {
      ...real,
      async readAfter(after, limit) {
        const rows = await real.readAfter(after, limit);
        if (rows.length === 0 && armed) {
          armed = false;
          await append('r');
          running!.wake();
        }
        return rows;
      },
    };
    const name = `gated-${++sinkNumber}`;
    running = createDrainer({
      db, reader, sink: { ...createRelationalSink(db), name }, instanceId: 'test', batchRows: 1_000, pollMs: 60_000,
      metrics, log: createLogger('silent'),
    });
    drainer = running;
    running.start();
    await until(async () => !armed && (await position(name)) === (await logEnd()), 'the row appended during the read', 5_000);
  });
});
