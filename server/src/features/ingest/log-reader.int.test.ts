import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutboxRecord } from '@ninjait/shared';
import { createScratchDatabase, relationalEngines } from '../../../test-support/databases.ts';
import { fakeSampleRecord } from '../../../test-support/harness.ts';
import { migrate, openRelationalStore, type RelationalStore } from '../../stores/relational/index.ts';
import { createMetrics } from '../../platform/obs/metrics.ts';
import type { IngestRow } from './sinks/types.ts';
import { createIngestLog, type IngestLog } from './ingest-log.ts';
import { createIngestLogReader, type IngestLogReader } from './log-reader.ts';

const EPOCH_MS = 1_790_000_000_000;
const sample = (seq: number, cpu: number): OutboxRecord => fakeSampleRecord(seq, EPOCH_MS + seq * 1000, cpu);
/** The server's clock for these appends: the samples are fresh, not months old (which would quarantine them). */
const now = () => EPOCH_MS + 60_000;

describe.each(relationalEngines())('ingest log reader on %s', (engine) => {
  let dir: string;
  let database: Awaited<ReturnType<typeof createScratchDatabase>>;
  let db: RelationalStore;
  let log: IngestLog;
  const committed: IngestRow[][] = [];
  const devices: { deviceId: string; organizationId: string }[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ninjait-reader-'));
    database = engine === 'postgres' ? await createScratchDatabase() : null;
    db = await openRelationalStore({ databaseUrl: database?.url, dataDir: join(dir, 'pglite') });
    await migrate(db);
    const { rows: [org] } = await db.query<{ id: string }>(`INSERT INTO organizations (name) VALUES ('reader') RETURNING id`);
    for (const name of ['a', 'b']) {
      const { rows: [device] } = await db.query<{ id: string }>(
        `INSERT INTO devices (name, organization_id, status) VALUES ($1, $2, 'online') RETURNING id`, [name, org!.id]);
      await db.query('INSERT INTO device_ingest_state (device_id) VALUES ($1)', [device!.id]);
      devices.push({ deviceId: device!.id, organizationId: org!.id });
    }
    log = createIngestLog(db, { groupCommitMs: 1, metrics: createMetrics(), now });
    log.onAppended((rows) => committed.push([...rows]));
  });
  afterAll(async () => {
    await db.close();
    await database?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('hands over committed rows exactly as the database holds them', async () => {
    await Promise.all([
      log.append(devices[0]!, [sample(1, 10), sample(2, 20)], '10.0.0.7'),
      log.append(devices[1]!, [sample(1, 30)], null),
    ]);
    const fromMemory = committed.flat();
    expect(fromMemory.map((row) => row.seq).sort()).toEqual([1, 1, 2]);
    const fromDatabase = await createIngestLogReader(db, { capacityRows: 100 }).readAfter(0, 100);
    expect(fromMemory).toEqual(fromDatabase);
    // The backlog's other way to read: the same rows, times, address and payload, as one JSON value.
    const asJson = createIngestLogReader(db, { capacityRows: 100, rangeReadsAsJson: true });
    expect(await asJson.readAfter(0, 100)).toEqual(fromDatabase);
    expect(await asJson.readAfter(fromDatabase[0]!.id, 1)).toEqual(fromDatabase.slice(1, 2));
    expect(await asJson.readAfter(fromDatabase.at(-1)!.id, 100)).toEqual([]);
  });

  it('serves remembered rows from memory and reads the rest, in id order, without skipping', async () => {
    const reader = createIngestLogReader(db, { capacityRows: 100 });
    const start = (await reader.readAfter(0, 1000)).at(-1)!.id;
    committed.length = 0;
    await log.append(devices[0]!, [sample(3, 1)], null);
    const mine = committed.flat();
    reader.remember(mine);
    // Another instance's row, committed after ours: never remembered here.
    await createIngestLog(db, { groupCommitMs: 1, metrics: createMetrics(), now }).append(devices[1]!, [sample(2, 2)], null);
    const batch = await reader.readAfter(start, 10);
    expect(batch.map((row) => [row.deviceId, row.seq])).toEqual([[devices[0]!.deviceId, 3], [devices[1]!.deviceId, 2]]);
    expect(batch[0]).toBe(mine[0]); // the same object: no database read for it
    expect(batch[1]!.payload).toMatchObject({ cpu: { loadPercent: 2 } });
    // A second drainer at the same cursor gets the row the first one read from the database.
    expect((await reader.readAfter(start, 10))[1]).toBe(batch[1]);
  });

  it('makes identical reads once, and shares full batches but never a short one', async () => {
    const reader = createIngestLogReader(db, { capacityRows: 100 });
    const [first, second] = await Promise.all([reader.readAfter(0, 2), reader.readAfter(0, 2)]);
    expect(first).toHaveLength(2);
    expect(second).toBe(first); // one read answered both drainers
    expect(await reader.readAfter(0, 2)).toBe(first); // a full batch answers for a moment
    const tail = await reader.readAfter(first[1]!.id, 1000);
    committed.length = 0;
    await log.append(devices[0]!, [sample(4, 4)], null);
    // The short batch reached the end then; asking again must see the row committed since.
    expect((await reader.readAfter(first[1]!.id, 1000)).length).toBe(tail.length + 1);
  });

  it('reads a backlog it holds nothing of in one statement per batch, and what it holds without reading it again', async () => {
    const statements: string[] = [];
    const counted = { query: ((sql: string, params?: readonly unknown[]) => (statements.push(sql), db.query(sql, params))) as RelationalStore['query'] };
    const reader = createIngestLogReader(counted, { capacityRows: 100 });
    const all = await createIngestLogReader(db, { capacityRows: 100 }).readAfter(0, 1000);
    const first = await reader.readAfter(0, 2);
    expect(statements).toHaveLength(1);
    expect(first).toEqual(all.slice(0, 2));
    const rest = await reader.readAfter(first[1]!.id, 1000);
    expect(statements).toHaveLength(2);
    expect([...first, ...rest]).toEqual(all);
    // Behind rows it holds, it asks only which ids follow: every row is in memory.
    expect(await reader.readAfter(0, 1000)).toEqual(all);
    expect(statements).toHaveLength(3);
  });

  it('stays within its capacity and reads evicted rows back', async () => {
    const reader = createIngestLogReader(db, { capacityRows: 2 });
    const all = await reader.readAfter(0, 1000);
    expect(all.length).toBeGreaterThan(2);
    const again = await reader.readAfter(0, 1000);
    expect(again).toEqual(all);
    expect(again[0]).not.toBe(all[0]); // evicted, so read from the database again
    expect(again.at(-1)).toBe(all.at(-1));
  });

  /** Appends `count` more samples of device a; resolves with the log's last id before them. */
  async function backlog(count: number): Promise<number> {
    const before = (await createIngestLogReader(db, { capacityRows: 1 }).readAfter(0, 100_000)).at(-1)?.id ?? 0;
    const { rows: [state] } = await db.query<{ last_seq: number }>('SELECT last_seq FROM device_ingest_state WHERE device_id = $1', [devices[0]!.deviceId]);
    const from = Number(state!.last_seq) + 1;
    await log.append(devices[0]!, Array.from({ length: count }, (_, i) => sample(from + i, i % 100)), null);
    return before;
  }

  /** A drainer of `limit`-row batches from `after` to the log's end, `pauseMs` per batch (its sink's write). */
  async function drain(reader: IngestLogReader, name: string, after: number, limit: number, pauseMs: number) {
    const seen: number[] = [];
    for (let cursor = after; ;) {
      const batch = await reader.readAfter(cursor, limit, name);
      if (batch.length === 0) return seen;
      seen.push(...batch.map((row) => row.id));
      cursor = batch.at(-1)!.id;
      if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }

  const rowsRead = async (metrics: ReturnType<typeof createMetrics>) => (await metrics.logRowsRead.get()).values[0]?.value ?? 0;

  it('keeps its drainers together in a backlog, so each row is read from the database once for all of them', async () => {
    const start = await backlog(100);
    const metrics = createMetrics();
    // Room for two batches: a drainer running ahead freely would leave the slow one to read 80 rows again.
    const reader = createIngestLogReader(db, { capacityRows: 20, metrics });
    const [fast, slow] = await Promise.all([drain(reader, 'cache', start, 10, 0), drain(reader, 'clickhouse', start, 10, 100)]);
    expect(fast).toHaveLength(100);
    expect(slow).toEqual(fast);
    const read = await rowsRead(metrics);
    expect(read).toBeGreaterThanOrEqual(100);
    expect(read).toBeLessThanOrEqual(110);
  });

  it('does not wait for a drainer that stopped asking for rows', async () => {
    const start = await backlog(60);
    const reader = createIngestLogReader(db, { capacityRows: 20 });
    // A drainer whose sink failed after its first batch: it backs off and asks nothing more.
    expect(await reader.readAfter(start, 10, 'influx')).toHaveLength(10);
    const started = performance.now();
    expect(await drain(reader, 'cache', start, 10, 0)).toHaveLength(60);
    // It waited out the stopped drainer's liveness (2 s) once, not the longest wait on every read (6 × 2 s).
    expect(performance.now() - started).toBeLessThan(6_000);
  }, 15_000);

  it('does not wait for a drainer whose sink fails and asks again from the same place', async () => {
    const start = await backlog(60);
    const reader = createIngestLogReader(db, { capacityRows: 20 });
    let failing = true;
    const retries = (async () => {
      while (failing) {
        await reader.readAfter(start, 10, 'influx');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    const started = performance.now();
    expect(await drain(reader, 'cache', start, 10, 0)).toHaveLength(60);
    failing = false;
    await retries;
    expect(performance.now() - started).toBeLessThan(6_000);
  }, 15_000);

  it('never holds back a drainer at the log\'s end for one catching up', async () => {
    const start = await backlog(60);
    const reader = createIngestLogReader(db, { capacityRows: 20 });
    const end = (await drain(reader, 'cache', start, 100, 0)).at(-1)!;
    await backlog(5);
    // ClickHouse catching up from far behind, moving a batch every 300 ms (2 s to catch up).
    const catchingUp = drain(reader, 'clickhouse', start, 10, 300);
    await new Promise((resolve) => setTimeout(resolve, 150));
    const started = performance.now();
    expect(await reader.readAfter(end, 10, 'cache')).toHaveLength(5);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(await catchingUp).toHaveLength(65);
  }, 15_000);
});
