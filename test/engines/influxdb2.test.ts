import { randomUUID } from 'node:crypto';
import { InfluxDB } from '@influxdata/influxdb-client';
import { BucketsAPI, OrgsAPI, TasksAPI } from '@influxdata/influxdb-client-apis';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createInfluxTimeSeriesStore, toInfluxPoint, type MetricPoint } from '@ninjait/server/stores/timeseries';
import { seedFluxQuery } from './seed-queries.ts';

/**
 * The Influx adapter against a real InfluxDB 2 (INFLUX_URL, INFLUX_TOKEN with rights on buckets
 * and tasks, INFLUX_ORG; .github/workflows/engines.yml runs influxdb:2 with bucket `metrics`):
 * retention buckets and downsampling tasks are created, points written by the store come back
 * through the strategy's Flux query verbatim and through ours, per organization. Nothing in
 * Debian or npm speaks Flux (VictoriaMetrics covers writes only, in influx.int.test.ts), so here it skips.
 */
const { INFLUX_URL, INFLUX_TOKEN, INFLUX_ORG } = process.env;
const ready = Boolean(INFLUX_URL && INFLUX_TOKEN && INFLUX_ORG);
if (!ready) console.warn('INFLUX_URL, INFLUX_TOKEN and INFLUX_ORG are not all set: the InfluxDB 2 (Flux) tests are skipped; .github/workflows/engines.yml runs them');

/** The strategy's query reads `from(bucket: "metrics")`: the points go there, under a device id of this run. */
const BUCKET = 'metrics';
const FIVE_MIN_MS = 5 * 60_000;

describe.skipIf(!ready)('InfluxDB 2: retention, the strategy\'s Flux query and ours', () => {
  // Built even when skipped (describe bodies run): a placeholder URL then, never contacted.
  const url = INFLUX_URL ?? 'http://127.0.0.1:8086';
  const influx = new InfluxDB({ url, token: INFLUX_TOKEN });
  const store = createInfluxTimeSeriesStore({ url, token: INFLUX_TOKEN ?? '', org: INFLUX_ORG ?? '', bucket: BUCKET, log: pino({ level: 'silent' }) });
  const deviceId = randomUUID();
  const orgA = randomUUID();
  const orgB = randomUUID();
  // One whole 5-minute window, 20 minutes back: inside the strategy's `range(start: -1h)` whatever the clock.
  const windowStart = Math.floor((Date.now() - 20 * 60_000) / FIVE_MIN_MS) * FIVE_MIN_MS;
  const point = (organizationId: string, offsetMs: number, cpu: number): MetricPoint =>
    ({ deviceId, organizationId, timestamp: new Date(windowStart + offsetMs), cpu, memory: cpu / 2, diskUsed: 1_000, networkRx: 10, networkTx: 5, diskPercent: 40 });

  afterAll(async () => {
    // The rollup buckets and tasks this run created; the raw bucket is the server's own.
    const orgID = (await new OrgsAPI(influx).getOrgs({ org: INFLUX_ORG })).orgs?.[0]?.id;
    if (!orgID) return;
    const buckets = new BucketsAPI(influx);
    for (const name of [`${BUCKET}_5m`, `${BUCKET}_1h`]) {
      const found = (await buckets.getBuckets({ orgID, name }).catch(() => ({ buckets: [] }))).buckets ?? [];
      for (const bucket of found) if (bucket.id) await buckets.deleteBucketsID({ bucketID: bucket.id });
    }
    const tasks = new TasksAPI(influx);
    for (const task of (await tasks.getTasks({ orgID })).tasks ?? []) {
      if (task.name.startsWith('ninjait-device-metrics-')) await tasks.deleteTasksID({ taskID: task.id });
    }
    await store.close();
  });

  it('answers its health check', async () => {
    expect(await store.health()).toMatchObject({ ok: true, engine: 'influxdb' });
  });

  it('brings an existing bucket\'s retention to the strategy\'s figure, unless told to keep it', async () => {
    const orgID = (await new OrgsAPI(influx).getOrgs({ org: INFLUX_ORG })).orgs?.[0]?.id;
    const buckets = new BucketsAPI(influx);
    const raw = (await buckets.getBuckets({ orgID, name: BUCKET })).buckets![0]!;
    // docker-compose's setup used to create `metrics` with 30 days.
    await buckets.patchBucketsID({ bucketID: raw.id!, body: { retentionRules: [{ type: 'expire', everySeconds: 30 * 86_400 }] } });
    const keeping = createInfluxTimeSeriesStore({ url, token: INFLUX_TOKEN ?? '', org: INFLUX_ORG ?? '', bucket: BUCKET, keepExistingRetention: true, log: pino({ level: 'silent' }) });
    expect((await keeping.ensureRetention()).keptBuckets).toContainEqual({ name: BUCKET, everySeconds: 30 * 86_400, expected: 7 * 86_400 });
    expect((await buckets.getBucketsID({ bucketID: raw.id! })).retentionRules?.[0]?.everySeconds).toBe(30 * 86_400);

    expect((await store.ensureRetention()).updatedBuckets).toContainEqual({ name: BUCKET, fromSeconds: 30 * 86_400, toSeconds: 7 * 86_400 });
    expect((await buckets.getBucketsID({ bucketID: raw.id! })).retentionRules?.[0]?.everySeconds).toBe(7 * 86_400);
    expect((await store.ensureRetention()).updatedBuckets).toEqual([]);
  });

  it('creates the 5-minute and 1-hour buckets and the downsampling tasks, once', async () => {
    await store.ensureRetention();
    await store.ensureRetention();
    const orgID = (await new OrgsAPI(influx).getOrgs({ org: INFLUX_ORG })).orgs?.[0]?.id;
    const buckets = (await new BucketsAPI(influx).getBuckets({ orgID })).buckets ?? [];
    const retention = Object.fromEntries(buckets.map((bucket) => [bucket.name, bucket.retentionRules?.[0]?.everySeconds]));
    expect(retention[`${BUCKET}_5m`]).toBe(90 * 86_400);
    expect(retention[`${BUCKET}_1h`]).toBe(730 * 86_400);
    const tasks = ((await new TasksAPI(influx).getTasks({ orgID })).tasks ?? []).filter((task) => task.name.startsWith('ninjait-device-metrics-'));
    expect(tasks.map((task) => [task.name, task.status]).sort()).toEqual([['ninjait-device-metrics-1h', 'active'], ['ninjait-device-metrics-5m', 'active']]);
  });

  it('returns written points through the strategy\'s query as written: the mean of each field per 5-minute window', async () => {
    await store.write([point(orgA, 10_000, 20), point(orgA, 70_000, 40), point(orgA, 130_000, 60)]);
    const rows = await influx.getQueryApi(INFLUX_ORG!).collectRows<{ _field: string; _value: number | null; _time: string }>(seedFluxQuery(deviceId));
    const filled = rows.filter((row) => row._value !== null);
    const byField = Object.fromEntries(filled.map((row) => [row._field, row._value]));
    expect(byField).toEqual({ cpu: 40, memory: 20, disk_used: 1_000, disk_usage: 40, network_rx: 10, network_tx: 5 });
    // aggregateWindow stamps a window with its end.
    expect(new Set(filled.map((row) => Date.parse(row._time)))).toEqual(new Set([windowStart + FIVE_MIN_MS]));
  });

  it('serves the dashboard series for one organization only, and a replayed point changes nothing', async () => {
    await store.write([point(orgB, 20_000, 90)]);
    await store.write([point(orgA, 10_000, 20)]);
    const series = await store.querySeries(deviceId, orgA, '1h');
    expect(series.map((p) => [p.timestamp.getTime(), p.cpu, p.memory, p.diskUsed, p.networkRx, p.networkTx]))
      .toEqual([[windowStart + FIVE_MIN_MS, 40, 20, 1_000, 10, 5]]);
    expect((await store.querySeries(deviceId, orgB, '1h')).map((p) => p.cpu)).toEqual([90]);
    expect(await store.querySeries(randomUUID(), orgA, '1h')).toEqual([]);
  });

  it('reads 30 days from the 5-minute bucket and a year from the hourly one', async () => {
    await store.ensureRetention();
    const write = influx.getWriteApi(INFLUX_ORG!, `${BUCKET}_5m`, 'ms');
    const hourly = influx.getWriteApi(INFLUX_ORG!, `${BUCKET}_1h`, 'ms');
    // Points only a rollup bucket holds: 20 days back is past the raw bucket's 7 days.
    const old = (cpu: number) => ({ ...point(orgA, 0, cpu), timestamp: new Date(Date.now() - 20 * 86_400_000) });
    write.writePoint(toInfluxPoint(old(33)));
    hourly.writePoint(toInfluxPoint(old(77)));
    await write.close();
    await hourly.close();
    expect((await store.querySeries(deviceId, orgA, '30d')).map((p) => p.cpu)).toContain(33);
    expect((await store.querySeries(deviceId, orgA, '1y')).map((p) => p.cpu)).toContain(77);
  });

  it('gives the hourly rollup each device\'s means and peaks per hour, a replay counted once', async () => {
    const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3 * 3_600_000;
    const device = randomUUID();
    const at = (offsetMs: number, cpu: number, diskPercent: number): MetricPoint =>
      ({ deviceId: device, organizationId: orgA, timestamp: new Date(hour + offsetMs), cpu, memory: cpu / 2, diskUsed: 1_000, networkRx: cpu * 10, networkTx: 5, diskPercent });
    const batch = [at(60_000, 10, 20), at(120_000, 30, 40), at(3_600_000 + 60_000, 90, 50)];
    await store.write(batch);
    await store.write(batch);
    const rows = (await store.hourlyAggregates(new Date(hour), new Date(hour + 2 * 3_600_000))).filter((row) => row.deviceId === device);
    expect(rows.map((row) => ({ ...row, hour: row.hour.getTime() })).sort((a, b) => a.hour - b.hour)).toEqual([
      { deviceId: device, organizationId: orgA, hour, cpuAvg: 20, cpuMax: 30, memoryAvg: 10, memoryMax: 15, diskUsage: 30, networkIn: 200, networkOut: 5 },
      { deviceId: device, organizationId: orgA, hour: hour + 3_600_000, cpuAvg: 90, cpuMax: 90, memoryAvg: 45, memoryMax: 45, diskUsage: 50, networkIn: 900, networkOut: 5 },
    ]);
    // [from, to) holds whole hours: the second hour alone.
    expect((await store.hourlyAggregates(new Date(hour + 3_600_000), new Date(hour + 2 * 3_600_000))).filter((row) => row.deviceId === device)
      .map((row) => row.cpuAvg)).toEqual([90]);
  });

  it('reports the series each bucket holds', async () => {
    const { series } = await store.size!();
    expect(Object.keys(series).sort()).toEqual([BUCKET, `${BUCKET}_1h`, `${BUCKET}_5m`]);
    expect(series[BUCKET]).toBeGreaterThan(0);
  });
});
