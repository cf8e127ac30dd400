import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutboxRecord } from '@ninjait/shared';
import type { RelationalStore } from '../../stores/relational/index.ts';
import type { Drainer } from './drainer.ts';
import type { IngestLog } from './ingest-log.ts';
import { failure, success, type IngestRow, type Sink, type WriteResult } from './sinks/types.ts';

/** One server instance's share of a log engine: where pushes are appended and its drainers. */
export interface LogInstance {
  log: IngestLog;
  drainers: Drainer[];
  /** Stops the drainers and lets go of the engine, as a server shutting down does. */
  close(): Promise<void>;
}

/** What a log adapter gives the contract: a migrated database and instances on one shared log. */
export interface LogEngineUnderTest {
  db: RelationalStore;
  /** Starts an instance whose drainers copy into `sinks` (sink names are new for every test). */
  instance(sinks: readonly Sink[]): Promise<LogInstance>;
  teardown(): Promise<void>;
}

type Device = { deviceId: string; organizationId: string };

/**
 * A real sink's contract in memory: idempotent (a key written twice is one row), counting
 * what it was given, and failing the way a `gate` says (a store down, a row it refuses).
 */
export function recordingSink(name: string) {
  const stored = new Map<string, number>();
  let gate: (rows: readonly IngestRow[]) => WriteResult | null = () => null;
  let up = true;
  const sink: Sink = {
    name,
    async init() {},
    async write(rows) {
      const verdict = gate(rows);
      if (verdict) return verdict;
      for (const row of rows) stored.set(`${row.deviceId}:${row.seq}`, (stored.get(`${row.deviceId}:${row.seq}`) ?? 0) + 1);
      return success();
    },
    async health() {
      return up ? { ok: true, engine: 'memory', latencyMs: 0 } : { ok: false, engine: 'memory', error: 'down' };
    },
    async close() {},
  };
  return {
    sink, stored,
    setGate(next: typeof gate, healthy = true) {
      gate = next;
      up = healthy;
    },
  };
}

const until = async (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

const keysOf = (device: Device, seqs: readonly number[]) => seqs.map((seq) => `${device.deviceId}:${seq}`);

/**
 * Whether the sink holds each of `keys`, each written once. A new sink starts at the log's
 * start, so it may also get rows of earlier tests (every test's sequences are its own).
 */
const holdsOnce = (sink: { stored: Map<string, number> }, keys: readonly string[]) => keys.every((key) => sink.stored.get(key) === 1);
const holds = (sink: { stored: Map<string, number> }, keys: readonly string[]) => keys.every((key) => sink.stored.has(key));

/**
 * The ingest log's contract, run on every adapter (PostgreSQL, JetStream): an append is acked
 * with the device's highest logged sequence; replays and re-sends are logged once; every sink
 * gets every row, through restarts and several instances; a store that is down only lags; a row
 * a store refuses goes to ingest_quarantine and does not hold up the rest.
 */
/** `sampleRecord` makes the agent's sample with sequence number `seq` (the tests' fixture: this suite is source, it imports none). */
export function describeIngestLogContract(name: string, open: () => Promise<LogEngineUnderTest>, sampleRecord: (seq: number) => OutboxRecord): void {
  describe(`ingest log contract: ${name}`, () => {
    let engine: LogEngineUnderTest;
    const devices: Device[] = [];
    const open_: LogInstance[] = [];
    let seq = 0;

    // PGlite's start and migrations take a while on a busy machine.
    beforeAll(async () => {
      engine = await open();
      const { rows: [org] } = await engine.db.query<{ id: string }>('INSERT INTO organizations (name) VALUES ($1) RETURNING id', [`contract-${randomBytes(3).toString('hex')}`]);
      for (const label of ['a', 'b', 'c']) {
        const { rows: [device] } = await engine.db.query<{ id: string }>(
          `INSERT INTO devices (name, organization_id, status) VALUES ($1, $2, 'online') RETURNING id`, [label, org!.id]);
        await engine.db.query('INSERT INTO device_ingest_state (device_id) VALUES ($1)', [device!.id]);
        devices.push({ deviceId: device!.id, organizationId: org!.id });
      }
    }, 180_000);
    afterAll(async () => {
      for (const instance of open_) await instance.close().catch(() => undefined);
      await engine?.teardown();
    }, 60_000);

    const start = async (sinks: readonly Sink[]) => {
      const instance = await engine.instance(sinks);
      open_.push(instance);
      instance.drainers.forEach((drainer) => drainer.start());
      return instance;
    };
    const stop = async (instance: LogInstance) => {
      open_.splice(open_.indexOf(instance), 1);
      await instance.close();
    };
    const uniqueSink = (label: string) => recordingSink(`${label}_${randomBytes(3).toString('hex')}`);
    /** Fresh sequences for a test: each test's records are its own. */
    const records = (count: number): OutboxRecord[] => Array.from({ length: count }, () => sampleRecord(++seq));

    it('acks the highest logged sequence, logs replays once and delivers each row to every sink once', async () => {
      const [one, two] = [uniqueSink('one'), uniqueSink('two')];
      const instance = await start([one.sink, two.sink]);
      const [a, b] = [devices[0]!, devices[1]!];
      const batchA = records(5);
      const batchB = records(3);
      const [ackA, ackB] = await Promise.all([instance.log.append(a, batchA, '10.0.0.1'), instance.log.append(b, batchB, null)]);
      expect(ackA).toBe(batchA.at(-1)!.seq);
      expect(ackB).toBe(batchB.at(-1)!.seq);
      // The agent did not get the ack and sends it all again, plus one new record.
      const more = records(1);
      expect(await instance.log.append(a, [...batchA, ...more], '10.0.0.1')).toBe(more[0]!.seq);
      const expected = [...keysOf(a, [...batchA, ...more].map((r) => r.seq)), ...keysOf(b, batchB.map((r) => r.seq))].sort();
      for (const sink of [one, two]) {
        await until(`${sink.sink.name} to get every row`, () => holds(sink, expected));
        await Promise.all(instance.drainers.map((drainer) => drainer.caughtUp()));
        expect(holdsOnce(sink, expected)).toBe(true);
      }
      await stop(instance);
    }, 60_000);

    it('acks nothing for a device that is not enrolled here', async () => {
      const instance = await start([uniqueSink('none').sink]);
      const stranger = { deviceId: '00000000-0000-4000-8000-000000000000', organizationId: devices[0]!.organizationId };
      expect(await instance.log.append(stranger, records(2), null)).toBe(0);
      await stop(instance);
    }, 60_000);

    it('keeps what was acked through a restart: the next instance drains it', async () => {
      const sink = uniqueSink('restart');
      // The store is down while the first instance runs: the rows wait in the log.
      sink.setGate(() => failure(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), true), false);
      const first = await start([sink.sink]);
      const batch = records(20);
      expect(await first.log.append(devices[2]!, batch, null)).toBe(batch.at(-1)!.seq);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await stop(first);
      expect(sink.stored.size).toBe(0);
      const expected = keysOf(devices[2]!, batch.map((r) => r.seq));
      sink.setGate(() => null, true);
      const second = await start([sink.sink]);
      await until('the restarted instance to drain', () => holds(sink, expected));
      expect(holdsOnce(sink, expected)).toBe(true);
      await stop(second);
    }, 60_000);

    it('shares one sink between two instances: every row once in the store', async () => {
      const shared = uniqueSink('shared');
      const [x, y] = [await start([shared.sink]), await start([shared.sink])];
      const expected: string[] = [];
      for (let round = 0; round < 10; round++) {
        const batch = records(10);
        const device = devices[round % devices.length]!;
        await (round % 2 === 0 ? x : y).log.append(device, batch, null);
        expected.push(...keysOf(device, batch.map((r) => r.seq)));
      }
      await until('both instances to drain', () => holds(shared, expected));
      expect(holdsOnce(shared, expected)).toBe(true);
      await Promise.all([stop(x), stop(y)]);
    }, 60_000);

    it('quarantines a row the store refuses and writes the rows around it', async () => {
      const sink = uniqueSink('poison');
      const batch = records(6);
      const poisoned = batch[2]!.seq;
      const device = devices[0]!;
      sink.setGate((rows) => (rows.some((row) => row.deviceId === device.deviceId && row.seq === poisoned)
        ? failure(Object.assign(new Error('invalid input syntax'), { code: '22P02' }), false)
        : null));
      const instance = await start([sink.sink]);
      await instance.log.append(device, batch, null);
      const rest = keysOf(device, batch.filter((r) => r.seq !== poisoned).map((r) => r.seq));
      await until('the rows around the poisoned one', () => holds(sink, rest));
      await until('the quarantine', async () => (await engine.db.query(
        'SELECT 1 FROM ingest_quarantine WHERE sink = $1 AND device_id = $2 AND seq = $3', [sink.sink.name, device.deviceId, poisoned])).rows.length === 1);
      expect(sink.stored.has(`${device.deviceId}:${poisoned}`)).toBe(false);
      await stop(instance);
    }, 60_000);
  });
}
