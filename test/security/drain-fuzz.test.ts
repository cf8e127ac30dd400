import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  MAX_BYTES, MAX_CLOCK_SKEW_MS, MAX_CORES_PER_SAMPLE, MAX_CPU_CORES, MAX_CPU_GHZ, MAX_PUSH_BYTES, MAX_RECORD_AGE_MS, MAX_SAMPLE_ITEMS,
  MAX_UPTIME_SEC, LATEST_TIME_MS, type Inventory, type MetricSample, type OutboxRecord,
} from '@ninjait/shared';
import { startHarness, type Harness } from '@ninjait/server/testing';
import { latestKey } from '@ninjait/server/stores/cache';
import { engineVariants } from './support.ts';
import { createIngestOrg, drainedWithin, drainLag, quarantineRows, type IngestOrg } from './ingest-support.ts';

/**
 * The fuzzer's other half: fuzz.test.ts checks that bad input is refused; this checks that
 * what the API accepts also drains. Valid records at the edges of every bound (0 and the
 * maximum of every number, strings at their limit in any Unicode including NUL and unpaired
 * surrogates, empty and full lists, the oldest and newest times accepted, and times outside
 * that window) are pushed through the real API by several devices of several organizations.
 * Then every accepted record must be in every store (the relational device row, the cache's
 * latest values, chdb's raw table, which is also the embedded time series), or in quarantine
 * with a reason; no drainer may be behind.
 */

const RECORDS = 400;
const DEVICES = 3;
const SEED = 7_310_013;
/** Pushes stay under the server's size limit with room for the envelope. */
const PUSH_BUDGET_BYTES = MAX_PUSH_BYTES / 2;
const DRAIN_WAIT_MS = 90_000;
/** The test's own duration: times at the window's edge must still be inside it when they arrive. */
const MARGIN_MS = 5 * 60_000;
/**
 * An InfluxDB line-protocol peer (VictoriaMetrics, .ci/start-victoriametrics.sh): with it the
 * Influx sink drains too; without it the embedded time series (chdb's raw table) stands in.
 */
const INFLUX_URL = process.env.INFLUX_TEST_URL;
if (!INFLUX_URL) console.warn('drain-fuzz: INFLUX_TEST_URL is not set, so the Influx sink is not fuzzed (the embedded time series is)');

/** Any code point but half surrogates, cut at `max` UTF-16 units, which can leave an unpaired one: storable after normalising. */
const text = (max: number) => fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: Math.min(max, 24) }) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: max }).map((value) => value.slice(0, max)) },
  { weight: 2, arbitrary: fc.constantFrom('', '\u0000', '\ud800', '\udfff\ud800', 'x'.repeat(max), '😀'.repeat(Math.floor(max / 2)),
    '\u0000'.repeat(max), "'; DROP TABLE devices; --", '../../etc/passwd', '\\u0000', 'null', '{"a":1}') },
);
const count = fc.oneof(fc.constantFrom(0, 1, MAX_BYTES), fc.nat(), fc.maxSafeNat());
const percent = fc.oneof(fc.constantFrom(0, 100), fc.double({ min: 0, max: 100, noNaN: true }));
const rate = fc.oneof(fc.constant(null), fc.constantFrom(0, MAX_BYTES), fc.double({ min: 0, max: MAX_BYTES, noNaN: true }));
/** Empty, full, or a few: a full list gets short strings, so a push still fits. */
const list = <T>(item: (maxText: number) => fc.Arbitrary<T>, full: number, maxText: number) => fc.oneof(
  fc.constant([] as T[]),
  fc.array(item(maxText), { minLength: 1, maxLength: 4 }),
  fc.array(item(8), { minLength: full, maxLength: full }),
);

const sample: fc.Arbitrary<MetricSample> = fc.record({
  cpu: fc.record({ loadPercent: percent, perCorePercent: fc.oneof(fc.constant([] as number[]), fc.array(percent, { minLength: MAX_CORES_PER_SAMPLE, maxLength: MAX_CORES_PER_SAMPLE }), fc.array(percent, { maxLength: 8 })) }),
  memory: fc.record({ totalBytes: count, usedBytes: count, availableBytes: count, swapTotalBytes: count, swapUsedBytes: count }),
  disks: list((max) => fc.record({ mount: text(Math.min(max, 512)), fs: text(Math.min(max, 512)), type: text(Math.min(max, 64)), sizeBytes: count, usedBytes: count }), MAX_SAMPLE_ITEMS, 512),
  network: list((max) => fc.record({
    iface: text(Math.min(max, 128)), rxBytes: count, txBytes: count, rxBytesPerSec: rate, txBytesPerSec: rate, rxErrors: count, txErrors: count,
  }), MAX_SAMPLE_ITEMS, 128),
  uptimeSec: fc.oneof(fc.constantFrom(0, MAX_UPTIME_SEC), fc.double({ min: 0, max: MAX_UPTIME_SEC, noNaN: true })),
});

const inventory: fc.Arbitrary<Inventory> = fc.record({
  hostname: text(256),
  os: fc.record({ platform: text(50), distro: text(256), release: text(256), kernel: text(256), arch: text(64) }),
  hardware: fc.record({ manufacturer: text(256), model: text(256), serial: text(256), uuid: text(256) }),
  machineKey: text(256).filter((key) => key.length > 0),
  cpu: fc.record({
    brand: text(256), cores: fc.integer({ min: 0, max: MAX_CPU_CORES }), physicalCores: fc.integer({ min: 0, max: MAX_CPU_CORES }),
    speedGHz: fc.oneof(fc.constantFrom(0, MAX_CPU_GHZ), fc.double({ min: 0, max: MAX_CPU_GHZ, noNaN: true })),
  }),
  memoryBytes: count,
  disks: list((max) => fc.record({ device: text(Math.min(max, 256)), type: text(Math.min(max, 64)), name: text(Math.min(max, 256)), sizeBytes: count }), MAX_SAMPLE_ITEMS, 256),
  interfaces: list((max) => fc.record({ iface: text(Math.min(max, 128)), mac: text(Math.min(max, 64)), ip4: text(Math.min(max, 64)), ip6: text(Math.min(max, 128)) }), MAX_SAMPLE_ITEMS, 128),
  agentVersion: text(64),
});

/** Collection times: the window's edges, inside it, and (to be quarantined on arrival) outside it. */
const collectedAt = (now: number) => fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(now - MAX_RECORD_AGE_MS + MARGIN_MS, now + MAX_CLOCK_SKEW_MS - MARGIN_MS / 5, now) },
  { weight: 5, arbitrary: fc.integer({ min: now - MAX_RECORD_AGE_MS + MARGIN_MS, max: now + MAX_CLOCK_SKEW_MS - MARGIN_MS / 5 }) },
  { weight: 1, arbitrary: fc.constantFrom(1, LATEST_TIME_MS, now - MAX_RECORD_AGE_MS - 2 * MAX_CLOCK_SKEW_MS, now + 2 * MAX_CLOCK_SKEW_MS) },
);

type Body = { kind: 'sample'; sample: MetricSample } | { kind: 'inventory'; inventory: Inventory };
const body: fc.Arbitrary<Body> = fc.oneof(
  { weight: 4, arbitrary: sample.map((value) => ({ kind: 'sample' as const, sample: value })) },
  { weight: 1, arbitrary: inventory.map((value) => ({ kind: 'inventory' as const, inventory: value })) },
);

interface Sent { org: IngestOrg; record: OutboxRecord }

/** A hostname as the devices row holds it: NUL and unpaired surrogates as U+FFFD, at most 255 characters (code points). */
const storedName = (hostname: string) =>
  Array.from(hostname.replace(/\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')).slice(0, 255).join('');

describe.each(engineVariants())('accepted input drains through every sink ($name)', (engines) => {
  let h: Harness;
  let orgs: IngestOrg[];
  const sent: Sent[] = [];
  const refused: string[] = [];

  beforeAll(async () => {
    await engines.reset();
    h = await startHarness({
      relational: engines.relational, cache: engines.cache,
      env: {
        RATE_LIMIT_MAX: '1000000', INGEST_LOG_RETENTION_SEC: '3600', ...engines.env,
        ...(INFLUX_URL ? { INFLUX_URL, INFLUX_TOKEN: 'fuzz', INFLUX_ORG: 'ninjait', INFLUX_BUCKET: 'fuzz' } : {}),
      },
    });
    // The raw table keeps 7 days; records up to 30 days old are accepted. Count them before ClickHouse's TTL would.
    await h.server.services.analytics.exec('SYSTEM STOP TTL MERGES device_metrics_raw');
    orgs = await Promise.all(Array.from({ length: DEVICES }, (_, i) => createIngestOrg(h, `Fuzz${i}`)));
  }, 120_000);
  afterAll(async () => {
    await h?.stop();
    await engines.reset();
  });

  it('accepts every generated record (they are built to the schema\'s bounds)', async () => {
    const now = Date.now();
    const generated = fc.sample(fc.tuple(fc.nat({ max: DEVICES - 1 }), collectedAt(now), body), { numRuns: RECORDS, seed: SEED });
    const nextSeq = orgs.map(() => 1);
    const perDevice = orgs.map(() => [] as OutboxRecord[]);
    for (const [device, time, value] of generated) perDevice[device]!.push({ seq: nextSeq[device]!++, collectedAt: time, ...value } as OutboxRecord);
    await Promise.all(orgs.map(async (org, i) => {
      const client = h.ws({ deviceId: org.deviceId, deviceSecret: org.deviceSecret });
      let batch: OutboxRecord[] = [];
      let size = 0;
      const flush = async () => {
        if (batch.length === 0) return;
        const records = batch;
        batch = [];
        size = 0;
        try {
          const { ackSeq } = await client.agent.push.mutate({ records });
          if (ackSeq !== records.at(-1)!.seq) refused.push(`device ${i}: acked ${ackSeq} for ${records[0]!.seq}..${records.at(-1)!.seq}`);
          sent.push(...records.map((record) => ({ org, record })));
        } catch (error) {
          refused.push(`device ${i}, seqs ${records[0]!.seq}..${records.at(-1)!.seq}: ${String(error).slice(0, 300)}`);
        }
      };
      for (const record of perDevice[i]!) {
        const bytes = JSON.stringify(record).length;
        if (size + bytes > PUSH_BUDGET_BYTES) await flush();
        batch.push(record);
        size += bytes;
      }
      await flush();
    }));
    expect(refused).toEqual([]);
    expect(sent).toHaveLength(RECORDS);
    // The seed reaches every edge the suite claims to try.
    const texts = sent.map(({ record }) => JSON.stringify(record));
    const samplesSent = sent.flatMap(({ record }) => (record.kind === 'sample' ? [record.sample] : []));
    const edges = {
      fullDiskLists: samplesSent.filter((value) => value.disks.length === MAX_SAMPLE_ITEMS).length,
      fullCoreLists: samplesSent.filter((value) => value.cpu.perCorePercent.length === MAX_CORES_PER_SAMPLE).length,
      emptyLists: samplesSent.filter((value) => value.disks.length === 0 && value.network.length === 0).length,
      maxCounters: samplesSent.filter((value) => value.memory.totalBytes === MAX_BYTES).length,
      nul: texts.filter((value) => value.includes('\\u0000')).length,
      unpairedSurrogates: texts.filter((value) => /\\ud[89ab]/.test(value)).length,
      astral: texts.filter((value) => /[\u{10000}-\u{10FFFF}]/u.test(value)).length,
      inventories: sent.length - samplesSent.length,
      oldestAllowed: sent.filter(({ record }) => record.collectedAt === now - MAX_RECORD_AGE_MS + MARGIN_MS).length,
      newestAllowed: sent.filter(({ record }) => record.collectedAt === now + MAX_CLOCK_SKEW_MS - MARGIN_MS / 5).length,
      largestPushedBytes: Math.max(...texts.map((value) => value.length)),
    };
    console.info(`drain fuzz (${engines.name}) sent: ${JSON.stringify(edges)}`);
    expect(Object.values(edges).every((value) => value > 0)).toBe(true);
  }, 120_000);

  it('has every accepted record in every store or in quarantine with a reason, and no drainer behind', async () => {
    await drainedWithin(h, DRAIN_WAIT_MS);
    expect(Object.values(await drainLag(h)).every((lag) => lag === 0)).toBe(true);
    const quarantine = await quarantineRows(h);
    expect(quarantine.every((row) => row.reason.length > 10)).toBe(true);
    const setAside = (sink: string) => new Set(quarantine.filter((row) => row.sink === sink).map((row) => `${row.deviceId}:${row.seq}`));
    const onArrival = setAside('ingest');
    const key = ({ org, record }: Sent) => `${org.deviceId}:${record.seq}`;
    const now = Date.now();
    // Exactly the records outside the window were set aside on arrival.
    const outside = (record: OutboxRecord) => record.collectedAt < now - MAX_RECORD_AGE_MS - MAX_CLOCK_SKEW_MS || record.collectedAt > now + MAX_CLOCK_SKEW_MS;
    expect(sent.filter((s) => outside(s.record)).map(key).sort()).toEqual([...onArrival].sort());
    const logged = sent.filter((s) => !onArrival.has(key(s)));
    expect(logged.length).toBeGreaterThan(RECORDS / 2);

    const failures: string[] = [];
    for (const org of orgs) {
      const mine = logged.filter((s) => s.org === org);
      const samples = mine.filter((s) => s.record.kind === 'sample');
      // chdb's raw table (the embedded time series): one row per sample, unless quarantined for ClickHouse;
      // none with InfluxDB configured, which holds the series alone. The usage count: one per sample either way.
      const clickhouseSetAside = setAside('clickhouse');
      const raw = await h.server.services.analytics.query<{ seq: number }>(
        'SELECT DISTINCT seq FROM device_metrics_raw WHERE device_id = {deviceId:UUID} ORDER BY seq', { deviceId: org.deviceId });
      const expected = samples.filter((s) => !clickhouseSetAside.has(key(s))).map((s) => s.record.seq);
      const expectedRaw = INFLUX_URL ? [] : expected;
      if (JSON.stringify(raw.map((row) => row.seq)) !== JSON.stringify(expectedRaw)) failures.push(`clickhouse ${org.deviceId}: ${raw.length} raw rows for ${expectedRaw.length} expected`);
      const [usage] = await h.server.services.analytics.query<{ n: string }>(
        'SELECT sum(samples) AS n FROM metric_usage_daily WHERE device_id = {deviceId:UUID}', { deviceId: org.deviceId });
      if (Number(usage?.n ?? 0) !== expected.length) failures.push(`clickhouse ${org.deviceId}: usage counts ${usage?.n} samples for ${expected.length}`);
      if (INFLUX_URL) {
        // Influx identifies a point by series and time: one point per distinct collection time.
        const influxSetAside = setAside('influx');
        const want = [...new Set(samples.filter((s) => !influxSetAside.has(key(s))).map((s) => s.record.collectedAt))].sort((a, b) => a - b);
        const got = await pointTimes(INFLUX_URL, org.deviceId, want.length);
        if (JSON.stringify(got) !== JSON.stringify(want)) failures.push(`influx ${org.deviceId}: ${got.length} points for ${want.length} sample times; missing ${JSON.stringify(want.filter((t) => !got.includes(t)).slice(0, 5).map((t) => new Date(t).toISOString()))}`);
      } else {
        const series = await h.server.services.timeseries.querySeries(org.deviceId, org.orgId, '30d');
        if (!series.every((point) => [point.cpu, point.memory, point.networkRx, point.networkTx].every((value) => value === null || Number.isFinite(value)))) {
          failures.push(`time series ${org.deviceId}: a window is not a finite number`);
        }
      }
      // The relational device row: last seen at a sample's time, no earlier than the newest sample's (by seq: each
      // batch's latest sample, kept with GREATEST), and named after the newest inventory.
      const relationalSetAside = setAside('relational');
      const storedSamples = samples.filter((s) => !relationalSetAside.has(key(s)));
      const storedInventories = mine.filter((s) => s.record.kind === 'inventory' && !relationalSetAside.has(key(s)));
      const { rows: [device] } = await h.server.services.db.query<{ lastSeen: Date | null; name: string }>(
        'SELECT last_seen AS "lastSeen", name FROM devices WHERE id = $1', [org.deviceId]);
      const seenMs = device!.lastSeen?.getTime() ?? Number.NaN;
      const newestBySeq = storedSamples.at(-1)?.record.collectedAt;
      if (newestBySeq !== undefined && (seenMs < newestBySeq || !storedSamples.some((s) => Math.abs(s.record.collectedAt - seenMs) <= 1))) {
        failures.push(`relational ${org.deviceId}: last seen ${device!.lastSeen?.toISOString()}, newest sample ${new Date(newestBySeq).toISOString()}`);
      }
      const latestInventory = storedInventories.at(-1)?.record;
      if (latestInventory?.kind === 'inventory' && device!.name !== storedName(latestInventory.inventory.hostname)) failures.push(`relational ${org.deviceId}: name ${JSON.stringify(device!.name)}`);
      // The cache: the newest sample's values.
      const cached = await h.server.services.cache.get(latestKey(org.deviceId));
      const newestSample = samples.filter((s) => !setAside('cache').has(key(s))).at(-1);
      if (newestSample && (cached === null || (JSON.parse(cached) as { seq: number }).seq !== newestSample.record.seq)) failures.push(`cache ${org.deviceId}: ${cached?.slice(0, 80)} instead of seq ${newestSample.record.seq}`);
    }
    expect(failures).toEqual([]);
    console.info(`drain fuzz (${engines.name}): ${sent.length} records accepted, ${onArrival.size} quarantined on arrival, `
      + `${quarantine.length - onArrival.size} quarantined by sinks, the rest stored in every sink`);
  }, 150_000);
});

/** The CPU series' point times of one device in VictoriaMetrics, once it shows `expected` of them (it indexes new points within a second or two). */
async function pointTimes(url: string, deviceId: string, expected: number): Promise<number[]> {
  // Export ends at "now" by default; the window accepts records a few minutes ahead.
  const query = new URLSearchParams({ 'match[]': `device_metrics_cpu{device_id="${deviceId}"}`, start: '0', end: String(Math.floor(Date.now() / 1000) + 3_600) });
  let times: number[] = [];
  for (const end = Date.now() + 15_000; Date.now() < end; await new Promise((resolve) => setTimeout(resolve, 250))) {
    const text = await (await fetch(`${url}/api/v1/export?${query}`)).text();
    const lines = text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { timestamps: number[]; values: number[] });
    if (lines.some((line) => !line.values.every(Number.isFinite))) throw new Error(`influx ${deviceId}: a value is not finite`);
    times = [...new Set(lines.flatMap((line) => line.timestamps))].sort((a, b) => a - b);
    if (times.length >= expected) break;
  }
  return times;
}
