import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_RECORD_AGE_MS } from '@ninjait/shared';
import { fakeSampleRecord, startHarness, type Harness } from '@ninjait/server/testing';
import { createCacheSink } from '@ninjait/server/sinks/cache-sink';
import type { Sink } from '@ninjait/server/sinks/types';
import { trimIngestLog } from '@ninjait/server/ingest/trimmer';
import { createDrainer } from '@ninjait/server/ingest/drainer';
import { createIngestLogReader } from '@ninjait/server/ingest/log-reader';
import { createRedisCache, latestKey } from '@ninjait/server/stores/cache';
import { createLogger } from '@ninjait/server/obs/logger';
import { startTcpProxy } from '../support/tcp-proxy.ts';
import { engineVariants } from './support.ts';
import { counterValues, createIngestOrg, drainedWithin, quarantineRows, rawAgentCall, type IngestOrg } from './ingest-support.ts';

/**
 * No record stalls ingest. What an agent sends is bounded by the schema; what the schema cannot
 * judge (a time, by the server's clock) is quarantined on arrival; a row already in the log that
 * a store cannot take (an older server logged it) is quarantined by each drainer, which then
 * moves on. Each case failed on the code before this suite: pushes were acked and then every
 * drainer retried the row forever, so every organization's devices stopped updating.
 */

/** Past JavaScript's last date (8.64e15): the record. */
const BEYOND_DATES_MS = 8.7e15;
/** Sinks the harness runs (no InfluxDB configured). */
const SINKS = ['cache', 'clickhouse', 'relational'];
const DRAIN_WAIT_MS = 20_000;

const sampleJson = (seq: number, collectedAt: number, sample: string) =>
  `{"records":[{"seq":${seq},"collectedAt":${collectedAt},"kind":"sample","sample":${sample}}]}`;
const goodSample = () => JSON.stringify(fakeSampleRecord(1).sample);

describe.each(engineVariants())('no record stalls ingest ($name)', (engines) => {
  let h: Harness;
  let x: IngestOrg;
  let y: IngestOrg;
  const device = (org: IngestOrg) => h.ws({ deviceId: org.deviceId, deviceSecret: org.deviceSecret });
  const rawPush = (org: IngestOrg, json: string) => rawAgentCall(h.server.url, { deviceId: org.deviceId, deviceSecret: org.deviceSecret }, 'agent.push', json);
  const logCount = async () => (await h.server.services.db.query<{ n: number }>('SELECT count(*)::int AS n FROM ingest_log')).rows[0]!.n;
  const rawRows = (deviceId: string) => h.server.services.analytics.query<{ seq: number; cpu: number; memory_used: number; network_in: number }>(
    'SELECT seq, cpu, memory_used, network_in FROM device_metrics_raw WHERE device_id = {deviceId:UUID} ORDER BY seq', { deviceId });

  beforeAll(async () => {
    await engines.reset();
    h = await startHarness({
      relational: engines.relational, cache: engines.cache,
      // Keep drained rows: the test reads them back, and trims by hand.
      env: { RATE_LIMIT_MAX: '1000000', INGEST_LOG_RETENTION_SEC: '3600', ...engines.env },
    });
    [x, y] = await Promise.all([createIngestOrg(h, 'Poisoned'), createIngestOrg(h, 'Bystander')]);
  }, 120_000);
  afterAll(async () => {
    await h?.stop();
    await engines.reset();
  });

  it('refuses what no agent can send: a time past the last date, a non-finite or negative or huge number', async () => {
    const before = await logCount();
    const refusals = await Promise.all([
      rawPush(x, sampleJson(1, BEYOND_DATES_MS, goodSample())),
      rawPush(x, sampleJson(1, Date.now(), goodSample().replace(/"uptimeSec":\d+/, '"uptimeSec":1e400'))),
      rawPush(x, sampleJson(1, Date.now(), goodSample().replace(/"usedBytes":\d+(e\d+)?/, '"usedBytes":-1'))),
      rawPush(x, sampleJson(1, Date.now(), goodSample().replace(/"rxBytesPerSec":\d+/, '"rxBytesPerSec":1e300'))),
      rawPush(x, sampleJson(1, Date.now(), goodSample().replace(/"swapTotalBytes":\d+/, '"swapTotalBytes":1e20'))),
    ]);
    expect(refusals.map((answer) => answer.code)).toEqual(['BAD_REQUEST', 'BAD_REQUEST', 'BAD_REQUEST', 'BAD_REQUEST', 'BAD_REQUEST']);
    expect(await logCount()).toBe(before);
  });

  it('stores text PostgreSQL cannot hold (NUL, unpaired surrogates) as U+FFFD, and the push sharing its commit still lands', async () => {
    const hostile = JSON.stringify(fakeSampleRecord(1).sample).replace('"mount":"/"', '"mount":"/mnt/\\u0000x\\ud800y"');
    const [odd, bystander] = await Promise.all([
      rawPush(x, sampleJson(1, Date.now(), hostile)),
      device(y).agent.push.mutate({ records: [fakeSampleRecord(1)] }),
    ]);
    expect(odd).toEqual({ ok: true, code: null, data: { ackSeq: 1 } });
    expect(bystander).toEqual({ ackSeq: 1 });
    await drainedWithin(h, DRAIN_WAIT_MS);
    const { rows: [logged] } = await h.server.services.db.query<{ payload: { disks: { mount: string }[] } }>(
      'SELECT payload FROM ingest_log WHERE device_id = $1 AND seq = 1', [x.deviceId]);
    expect(logged!.payload.disks[0]!.mount).toBe('/mnt/\uFFFDx\uFFFDy');
  });

  it('acks a record collected outside the time window and quarantines it on arrival, instead of refusing or storing it', async () => {
    const now = Date.now();
    const ack = await device(x).agent.push.mutate({ records: [
      fakeSampleRecord(2, now - MAX_RECORD_AGE_MS - 24 * 3_600_000),
      fakeSampleRecord(3, now + 90 * 60_000),
      fakeSampleRecord(4, now),
    ] });
    expect(ack).toEqual({ ackSeq: 4 });
    const { rows } = await h.server.services.db.query<{ seq: number }>('SELECT seq FROM ingest_log WHERE device_id = $1 ORDER BY seq', [x.deviceId]);
    expect(rows.map((row) => row.seq)).toEqual([1, 4]);
    const arrivals = (await quarantineRows(h)).filter((row) => row.sink === 'ingest');
    expect(arrivals.map((row) => [row.deviceId, row.seq])).toEqual([[x.deviceId, 2], [x.deviceId, 3]]);
    expect(arrivals[0]!.reason).toMatch(/31 days before it arrived/);
    expect(arrivals[1]!.reason).toMatch(/1 h ahead of the server's clock/);
    // A replay of the same records is filtered as such: nothing is quarantined twice.
    expect(await device(x).agent.push.mutate({ records: [fakeSampleRecord(2, now - MAX_RECORD_AGE_MS - 24 * 3_600_000)] })).toEqual({ ackSeq: 4 });
    expect((await quarantineRows(h)).filter((row) => row.sink === 'ingest')).toHaveLength(2);
  });

  it("quarantines rows an older server logged that no store can take, and keeps draining every other organization's devices", async () => {
    await drainedWithin(h, DRAIN_WAIT_MS);
    const good = (seq: number) => JSON.stringify(fakeSampleRecord(seq).sample);
    // As an older server logged them: a time no Date holds between two good rows of another organization,
    // then values no store column takes (a JSON 1e400 reads back as Infinity).
    const weird = good(0).replace(/"loadPercent":[\d.]+/, '"loadPercent":1e308').replace(/"usedBytes":\d+(e\d+)?/, '"usedBytes":-5')
      .replace(/"rxBytesPerSec":\d+/, '"rxBytesPerSec":1e300').replace(/"uptimeSec":\d+/, '"uptimeSec":1e400');
    const { rows: logged } = await h.server.services.db.query<{ id: number }>(
      `INSERT INTO ingest_log (device_id, organization_id, seq, kind, collected_at, payload)
       SELECT d, o, s, 'sample', to_timestamp(t / 1000.0), p::json
       FROM unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::float8[], $5::text[]) AS v(d, o, s, t, p) RETURNING id`,
      [[y.deviceId, x.deviceId, y.deviceId, x.deviceId], [y.orgId, x.orgId, y.orgId, x.orgId], [2, 100, 3, 101],
        [Date.now() - 2_000, BEYOND_DATES_MS, Date.now() - 1_000, Date.now()], [good(2), good(0), good(3), weird]],
    );
    const poisonId = logged[1]!.id;
    // The bystander keeps reporting through the API while the poison row sits in the log.
    const bystander = device(y);
    for (let seq = 4; seq <= 6; seq++) await bystander.agent.push.mutate({ records: [fakeSampleRecord(seq, Date.now(), 40 + seq)] });

    await drainedWithin(h, DRAIN_WAIT_MS);
    const quarantined = (await quarantineRows(h)).filter((row) => row.sink !== 'ingest');
    expect(quarantined.map((row) => [row.sink, row.logId, row.deviceId, row.seq]).sort())
      .toEqual(SINKS.map((sink) => [sink, poisonId, x.deviceId, 100]));
    expect(quarantined.every((row) => /collection time \(not a valid date\) is outside what the stores hold/.test(row.reason))).toBe(true);
    const counted = await counterValues(h, 'ninjait_ingest_quarantined_total');
    for (const sink of SINKS) expect(counted[JSON.stringify({ sink })]).toBe(1);

    // Every store has the bystander's newest sample.
    const { rows: [seen] } = await h.server.services.db.query<{ lastSeen: Date; status: string }>(
      'SELECT last_seen AS "lastSeen", status FROM devices WHERE id = $1', [y.deviceId]);
    expect(seen!.status).toBe('online');
    expect(Date.now() - seen!.lastSeen.getTime()).toBeLessThan(60_000);
    expect(JSON.parse((await h.server.services.cache.get(latestKey(y.deviceId)))!)).toMatchObject({ seq: 6, cpu: { loadPercent: 46 } });
    expect((await rawRows(y.deviceId)).map((row) => row.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    // The row with unstorable numbers was written, each value made storable rather than failing its batch.
    expect((await rawRows(x.deviceId)).find((row) => row.seq === 101)).toEqual({ seq: 101, cpu: 100, memory_used: 0, network_in: 1e19 });

    // The trimmer passes the poison row like any other: every cursor is beyond it.
    expect(await trimIngestLog(h.server.services.db, SINKS, 0)).toBeGreaterThan(0);
    expect((await h.server.services.db.query('SELECT 1 FROM ingest_log WHERE id = $1', [poisonId])).rowCount).toBe(0);
  }, 60_000);

  it("shows an organization's admins their quarantined records with the reason, and no other organization's", async () => {
    const asX = await h.http({ authorization: `Bearer ${x.adminSession}` }).quarantine.list.query({});
    expect(asX.items.length).toBe(5); // 2 on arrival + the poison row for 3 sinks
    expect(asX.items.every((item) => item.deviceId === x.deviceId && item.deviceName === x.hostname && item.reason.length > 20)).toBe(true);
    expect(asX.items.find((item) => item.sink === 'relational')).toMatchObject({ seq: 100, collectedAtMs: BEYOND_DATES_MS });
    const firstPage = await h.http({ authorization: `Bearer ${x.adminSession}` }).quarantine.list.query({ limit: 2 });
    const secondPage = await h.http({ authorization: `Bearer ${x.adminSession}` }).quarantine.list.query({ limit: 2, cursor: firstPage.nextCursor! });
    expect([...firstPage.items, ...secondPage.items].map((item) => item.id)).toEqual(asX.items.slice(0, 4).map((item) => item.id));
    const asY = await h.http({ authorization: `Bearer ${y.adminSession}` }).quarantine.list.query({});
    expect(asY.items).toEqual([]);
    expect((await h.http({ authorization: `Bearer ${y.adminSession}` }).quarantine.list.query({ deviceId: x.deviceId })).items).toEqual([]);
  });

  // A store that is down fails every write and its health check: the drainer lags and sets nothing
  // aside, even when told to suspect rows after one failure, then catches up when the store is back.
  it.skipIf(!process.env.REDIS_URL)('a store that goes down only lags: nothing is quarantined, everything arrives once it is back', async () => {
    const proxy = await startTcpProxy([Number(new URL(process.env.REDIS_URL!).port || 6379)]);
    const keyPrefix = `test:outage:${randomBytes(4).toString('hex')}:`;
    const cache = createRedisCache(`redis://127.0.0.1:${proxy.port}`, { keyPrefix });
    const sink: Sink = { ...createCacheSink(cache), name: 'cache-behind-proxy' };
    const { db, metrics } = h.server.services;
    const drainer = createDrainer({
      db, reader: createIngestLogReader(db, { capacityRows: 100 }), sink, instanceId: 'outage-test', batchRows: 100, pollMs: 20,
      maxBackoffMs: 200, metrics, log: createLogger('silent', 'outage-test'),
      isolation: { suspectAfterFailures: 1, transientRowAttempts: 1, transientRowMinMs: 0, refusedRowAttempts: 1 },
    });
    const ownRows = async () => (await quarantineRows(h)).filter((row) => row.sink === sink.name).length;
    const position = async () => (await db.query<{ position: number }>('SELECT position FROM drain_cursors WHERE sink = $1', [sink.name])).rows[0]?.position ?? 0;
    try {
      drainer.start();
      await withTimeout(drainer.caughtUp(), DRAIN_WAIT_MS, 'the new drainer to catch up');
      const setAsideBefore = await ownRows(); // the poison row of the test above, for this sink too
      const errorsBefore = (await counterValues(h, 'ninjait_store_errors_total'))[JSON.stringify({ store: sink.name })] ?? 0;

      proxy.setMode('reset');
      const stoppedAt = await position();
      for (let seq = 7; seq <= 9; seq++) await device(y).agent.push.mutate({ records: [fakeSampleRecord(seq, Date.now(), 60 + seq)] });
      await waitUntil(async () => ((await counterValues(h, 'ninjait_store_errors_total'))[JSON.stringify({ store: sink.name })] ?? 0) >= errorsBefore + 5, 'five failed writes');
      expect(await ownRows()).toBe(setAsideBefore);
      expect(await position()).toBe(stoppedAt);

      proxy.setMode('forward');
      await withTimeout(drainer.caughtUp(), DRAIN_WAIT_MS, 'the drainer to catch up after the outage');
      expect(await ownRows()).toBe(setAsideBefore);
      expect(JSON.parse((await cache.get(latestKey(y.deviceId)))!)).toMatchObject({ seq: 9, cpu: { loadPercent: 69 } });
    } finally {
      await drainer.stop();
      const redis = new Redis(process.env.REDIS_URL!);
      const keys = await redis.keys(`${keyPrefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
      await cache.close();
      await proxy.close();
    }
  }, 60_000);
});

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms); })]);
  } finally {
    clearTimeout(timer);
  }
}

async function waitUntil(condition: () => Promise<boolean>, what: string, ms = DRAIN_WAIT_MS): Promise<void> {
  const end = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
