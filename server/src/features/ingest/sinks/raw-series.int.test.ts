import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveMetrics } from '@ninjait/shared';
import { cacheEngines, relationalEngines } from '../../../../test-support/databases.ts';
import { fakeInventory, fakeSampleRecord, startHarness, type Harness } from '../../../../test-support/harness.ts';
import { HOUR_MS, isoDate, startOfHourMs } from '../../../stores/analytics/time.ts';
import { lineProtocolBytes, sampleToPoint, type HourlyAggregate } from '../../../stores/timeseries/index.ts';
import { pendingHours, runHourlyRollup, type HourlySource } from '../../analytics/rollup.ts';
import { createClickhouseSink } from './clickhouse-sink.ts';

/**
 * One raw copy of every sample (issue #21): the analytics engine's raw table when it is the
 * time-series store, the Influx-protocol store alone when one is configured. Either way
 * ClickHouse gets the heartbeats, the usage billing reads and the rollup's dirty hours, and the
 * hour's rollup comes out of the store that holds the series.
 */

const INFLUX_URL = process.env.INFLUX_TEST_URL;
if (!INFLUX_URL) console.warn('raw-series.int.test: INFLUX_TEST_URL is not set (the test runner starts VictoriaMetrics): the Influx-protocol mode is skipped');

const combos = relationalEngines().flatMap((relational) => cacheEngines().map((cache) => ({ relational, cache })))
  // Each relational engine with its matching cache: the embedded pair and PostgreSQL + Redis.
  .filter(({ relational, cache }) => (relational === 'postgres') === (cache === 'redis') || cacheEngines().length === 1 || relationalEngines().length === 1);
const modes = [
  { mode: 'embedded time series', influxUrl: null },
  ...(INFLUX_URL ? [{ mode: 'Influx-protocol store (VictoriaMetrics)', influxUrl: INFLUX_URL }] : []),
];
const cases = combos.flatMap((combo) => modes.map((mode) => ({ ...combo, ...mode })));

interface ExportLine { metric: Record<string, string>; values: number[]; timestamps: number[] }

/**
 * Every point VictoriaMetrics holds for an organization, read with its own export API, once it
 * shows `expected` cpu points (it makes what it was sent searchable within a second or so).
 */
async function exportPoints(url: string, organizationId: string, expected: number): Promise<ExportLine[]> {
  const query = new URLSearchParams({
    'match[]': `{__name__=~"device_metrics_.+",organization_id="${organizationId}"}`, start: '0', end: String(Math.floor(Date.now() / 1000) + 3_600),
  });
  for (const deadline = Date.now() + 15_000; ; await new Promise((resolve) => setTimeout(resolve, 250))) {
    const response = await fetch(`${url}/api/v1/export?${query}`);
    if (!response.ok) throw new Error(`VictoriaMetrics export: ${response.status} ${await response.text()}`);
    const lines = (await response.text()).split('\n').filter(Boolean).map((line) => JSON.parse(line) as ExportLine);
    const cpuPoints = lines.filter((line) => line.metric.__name__ === 'device_metrics_cpu').reduce((sum, line) => sum + line.timestamps.length, 0);
    if (cpuPoints >= expected || Date.now() > deadline) return lines;
  }
}

/**
 * The hourly means and maxima of what VictoriaMetrics holds, from its raw points. The Influx
 * adapter asks these of InfluxDB in Flux, which VictoriaMetrics does not speak (only its write
 * protocol); this reads the same series from the same store, so the rollup below is fed by the
 * time-series store, not by ClickHouse.
 */
function victoriaHourly(url: string, organizationId: string, expected: number): HourlySource {
  return {
    async hourlyAggregates(from, to) {
      const perHour = new Map<string, { deviceId: string; hour: number; fields: Map<string, number[]> }>();
      for (const line of await exportPoints(url, organizationId, expected)) {
        const field = line.metric.__name__!.replace(/^device_metrics_/, '');
        line.timestamps.forEach((ms, i) => {
          if (ms < from.getTime() || ms >= to.getTime()) return;
          const hour = startOfHourMs(ms);
          const key = `${line.metric.device_id}/${hour}`;
          const entry = perHour.get(key) ?? { deviceId: line.metric.device_id!, hour, fields: new Map<string, number[]>() };
          entry.fields.set(field, [...(entry.fields.get(field) ?? []), line.values[i]!]);
          perHour.set(key, entry);
        });
      }
      const mean = (values: number[] = []) => values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);
      const max = (values: number[] = []) => Math.max(...values);
      return [...perHour.values()].map(({ deviceId, hour, fields }): HourlyAggregate => ({
        deviceId, organizationId, hour: new Date(hour),
        cpuAvg: mean(fields.get('cpu')), cpuMax: max(fields.get('cpu')), memoryAvg: mean(fields.get('memory')), memoryMax: max(fields.get('memory')),
        diskUsage: mean(fields.get('disk_usage')), networkIn: mean(fields.get('network_rx')), networkOut: mean(fields.get('network_tx')),
      }));
    },
  };
}

describe.each(cases)('raw samples on $relational + $cache, $mode', ({ relational, cache, influxUrl }) => {
  let h: Harness;
  let organizationId: string;
  let deviceId: string;
  const now = Date.now();
  // A finished hour, well inside the accepted record age: three samples in it.
  const hour = startOfHourMs(now) - 2 * HOUR_MS;
  const records = [10, 30, 80].map((cpu, i) => fakeSampleRecord(i + 1, hour + (i + 1) * 60_000, cpu));
  const analytics = () => h.server.services.analytics;

  beforeAll(async () => {
    h = await startHarness({
      relational, cache,
      env: {
        RATE_LIMIT_MAX: '1000',
        ...(influxUrl ? { INFLUX_URL: influxUrl, INFLUX_TOKEN: 'unused', INFLUX_ORG: 'ninjait', INFLUX_BUCKET: `raw-${randomBytes(4).toString('hex')}` } : {}),
      },
    });
    organizationId = (await h.admin.admin.organizations.create.mutate({ name: `Raw ${randomBytes(4).toString('hex')}` })).id;
    const { token } = await h.admin.admin.tokens.create.mutate({ org: organizationId });
    const enrolled = await h.http().agent.enroll.mutate({ token, inventory: fakeInventory(`raw-${randomBytes(4).toString('hex')}`) });
    deviceId = enrolled.deviceId;
    const agent = h.ws({ deviceId, deviceSecret: enrolled.deviceSecret });
    expect(await agent.agent.push.mutate({ records })).toEqual({ ackSeq: 3 });
    await h.server.drained();
  }, 180_000);
  afterAll(() => h?.stop(), 60_000);

  it(influxUrl ? 'keeps the samples in the time-series store only' : 'keeps the samples in device_metrics_raw', async () => {
    const raw = await analytics().query<{ seq: number }>(
      'SELECT seq FROM device_metrics_raw WHERE device_id = {deviceId:UUID} ORDER BY seq', { deviceId });
    if (influxUrl) {
      expect(raw).toEqual([]);
      const points = await exportPoints(influxUrl, organizationId, records.length);
      const cpu = points.find((line) => line.metric.__name__ === 'device_metrics_cpu' && line.metric.device_id === deviceId);
      expect(cpu?.timestamps).toEqual(records.map((record) => record.collectedAt));
      expect(cpu?.values).toEqual([10, 30, 80]);
    } else {
      expect(raw.map((row) => Number(row.seq))).toEqual([1, 2, 3]);
    }
  });

  it('writes the heartbeat, the usage billing reads and the hour to roll up to ClickHouse either way', async () => {
    // The sink's heartbeat, at the batch's latest sample: the status sync (a periodic job, at a random
    // phase of its interval) may also have written the device's enrollment as a row of its own, at its time.
    const beats = await analytics().query<{ n: string }>(
      'SELECT count() AS n FROM device_heartbeats WHERE device_id = {deviceId:UUID} AND toUnixTimestamp(timestamp) = {at:UInt32}',
      { deviceId, at: Math.floor(records.at(-1)!.collectedAt / 1000) });
    expect(Number(beats[0]!.n)).toBe(1);
    const asLogged = (firstId: number) => records.map((record, i) => ({
      id: firstId + i, deviceId, organizationId, seq: record.seq, collectedAt: new Date(record.collectedAt), receivedAt: new Date(), sourceIp: null,
      kind: 'sample' as const, payload: record.sample,
    }));
    const bytes = asLogged(1).reduce((sum, row) => sum + lineProtocolBytes(sampleToPoint(row)), 0);
    const usage = async () => (await analytics().query<{ organization_id: string; day: string; samples: string; bytes: string }>(
      'SELECT organization_id, toString(day) AS day, sum(samples) AS samples, sum(bytes) AS bytes FROM metric_usage_daily WHERE device_id = {deviceId:UUID} GROUP BY organization_id, day',
      { deviceId })).map((row) => ({ ...row, samples: Number(row.samples), bytes: Number(row.bytes) }));
    expect(await usage()).toEqual([{ organization_id: organizationId, day: isoDate(hour), samples: 3, bytes }]);
    // A drainer restarted mid-batch replays the samples in a batch cut elsewhere (another deduplication token): counted once.
    const sink = createClickhouseSink(analytics(), { rawSamples: !influxUrl });
    expect(await sink.write(asLogged(1_000_000), new AbortController().signal)).toEqual({ ok: true });
    expect(await usage()).toEqual([{ organization_id: organizationId, day: isoDate(hour), samples: 3, bytes }]);
    // A sink remembers what it counted only while it holds the lease: here another instance
    // counts seq 4-5 of a device in between, and the first, taking the lease again, replays them.
    const other = randomUUID();
    const otherRows = (firstId: number, seqs: number[]) => seqs.map((seq, i) => ({
      ...asLogged(firstId)[0]!, id: firstId + i, deviceId: other, seq, collectedAt: new Date(hour + seq * 1_000),
    }));
    const otherUsage = async () => Number((await analytics().query<{ samples: string }>(
      'SELECT sum(samples) AS samples FROM metric_usage_daily WHERE device_id = {other:UUID}', { other }))[0]?.samples ?? 0);
    const first = createClickhouseSink(analytics(), { rawSamples: !influxUrl });
    const second = createClickhouseSink(analytics(), { rawSamples: !influxUrl });
    const signal = new AbortController().signal;
    first.leaseTaken?.();
    expect(await first.write(otherRows(2_000_000, [1, 2, 3]), signal)).toEqual({ ok: true });
    expect(await second.write(otherRows(3_000_000, [4, 5]), signal)).toEqual({ ok: true });
    first.leaseTaken?.();
    expect(await first.write(otherRows(4_000_000, [4, 5]), signal)).toEqual({ ok: true });
    expect(await otherUsage()).toBe(5);
    // Drainers without a lease (the JetStream log's instances share a consumer) write side by side:
    // a sink that never took a lease reads the marks for every batch.
    const shared = [createClickhouseSink(analytics(), { rawSamples: !influxUrl }), createClickhouseSink(analytics(), { rawSamples: !influxUrl })] as const;
    expect(await shared[0].write(otherRows(5_000_000, [6, 7]), signal)).toEqual({ ok: true });
    expect(await shared[1].write(otherRows(6_000_000, [8, 9]), signal)).toEqual({ ok: true });
    expect(await shared[0].write(otherRows(7_000_000, [8, 9]), signal)).toEqual({ ok: true });
    expect(await otherUsage()).toBe(9);
    // ... and in any order: one stores a device's later samples before another its earlier ones,
    // then a redelivery mixes both, one of them twice: each sample counted once, none left out.
    expect(await shared[1].write(otherRows(8_000_000, [12, 13]), signal)).toEqual({ ok: true });
    expect(await shared[0].write(otherRows(9_000_000, [10, 11]), signal)).toEqual({ ok: true });
    expect(await otherUsage()).toBe(13);
    expect(await shared[1].write(otherRows(10_000_000, [11, 12, 12, 14]), signal)).toEqual({ ok: true });
    expect(await otherUsage()).toBe(14);
    // The hour of the samples waits for the rollup (the server's own job may have run it already, from the same store).
    const pending = await pendingHours(analytics(), now);
    const hourlyRows = await analytics().query<{ n: string }>('SELECT count() AS n FROM device_metrics_hourly WHERE device_id = {deviceId:UUID}', { deviceId });
    expect(pending.some((entry) => entry.hour === hour) || Number(hourlyRows[0]!.n) === 1).toBe(true);
  });

  it('rolls the hour up from the store that holds the series into device_metrics_hourly', async () => {
    const source = influxUrl ? victoriaHourly(influxUrl, organizationId, records.length) : h.server.services.timeseries;
    await runHourlyRollup(analytics(), source, now);
    const rows = await analytics().query<{ ts: string; cpu_avg: number; cpu_max: number; memory_avg: number; disk_usage: number; network_in: string; network_out: string }>(
      `SELECT toUnixTimestamp(timestamp) AS ts, cpu_avg, cpu_max, memory_avg, disk_usage, network_in, network_out
       FROM device_metrics_hourly WHERE device_id = {deviceId:UUID}`, { deviceId });
    const metrics = deriveMetrics(records[0]!.sample);
    // cpu mean (10 + 30 + 80) / 3 = 40, max 80; memory 4 of 8 GB = 50 %; disk 40 of 100 GB = 40 %; 100 B/s in, 50 out.
    expect(rows.map((row) => ({ ...row, ts: Number(row.ts), network_in: Number(row.network_in), network_out: Number(row.network_out) }))).toEqual([{
      ts: hour / 1000, cpu_avg: 40, cpu_max: 80, memory_avg: metrics.memoryPercent, disk_usage: metrics.diskPercent,
      network_in: metrics.rxBytesPerSec, network_out: metrics.txBytesPerSec,
    }]);
    expect(metrics).toMatchObject({ memoryPercent: 50, diskPercent: 40, rxBytesPerSec: 100, txBytesPerSec: 50 });
  });
});
