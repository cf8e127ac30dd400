import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { MetricSample } from '@ninjait/shared';
import { createTimeSeriesSink } from '../../../features/ingest/sinks/influx-sink.ts';
import type { IngestRow } from '../../../features/ingest/sinks/types.ts';
import { openTimeSeriesStore } from '../index.ts';
import { createInfluxTimeSeriesStore } from './influx-store.ts';

const INFLUX_URL = process.env.INFLUX_TEST_URL;
const silent = pino({ level: 'silent' });

function sample(cpu: number, usedBytes: number, rx: number): MetricSample {
  return {
    cpu: { loadPercent: cpu, perCorePercent: [cpu] },
    memory: { totalBytes: 8_000, usedBytes, availableBytes: 8_000 - usedBytes, swapTotalBytes: 0, swapUsedBytes: 0 },
    disks: [
      { mount: '/', fs: '/dev/sda1', type: 'ext4', sizeBytes: 1_000_000, usedBytes: 400_000 },
      { mount: '/data', fs: '/dev/sdb1', type: 'ext4', sizeBytes: 1_000_000, usedBytes: 50_000 },
    ],
    network: [{ iface: 'eth0', rxBytes: 1, txBytes: 1, rxBytesPerSec: rx, txBytesPerSec: rx / 2, rxErrors: 0, txErrors: 0 }],
    uptimeSec: 3_600,
  };
}

function rows(deviceId: string, organizationId: string, startMs: number): IngestRow[] {
  return [
    [20, 2_000, 1_000],
    [40, 4_000, 3_000],
    [60, 6_000, null],
  ].map(([cpu, used, rx], i) => ({
    id: i + 1, deviceId, organizationId, seq: i + 1, kind: 'sample' as const,
    collectedAt: new Date(startMs + i * 30_000), receivedAt: new Date(), sourceIp: null,
    payload: sample(cpu!, used!, rx ?? 0),
  }));
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface Exported { metric: Record<string, string>; values: number[]; timestamps: number[] }

/** VictoriaMetrics makes new points searchable after a flush of its in-memory buffer. */
async function exportSeries(url: string, deviceId: string, expectedSeries: number): Promise<Map<string, Exported>> {
  for (let attempt = 0; ; attempt++) {
    await fetch(`${url}/internal/force_flush`);
    const series = await exportOnce(url, deviceId);
    if (series.size >= expectedSeries || attempt >= 20) return series;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function exportOnce(url: string, deviceId: string): Promise<Map<string, Exported>> {
  const match = encodeURIComponent(`{__name__=~"device_metrics_.*",device_id="${deviceId}"}`);
  const response = await fetch(`${url}/api/v1/export?match[]=${match}`);
  expect(response.ok).toBe(true);
  const lines = (await response.text()).split('\n').filter(Boolean).map((line) => JSON.parse(line) as Exported);
  return new Map(lines.map((line) => [line.metric.__name__!, line]));
}

describe('influx sink: a store that is down', () => {
  it('returns a retryable failure and an unhealthy check, never throws', async () => {
    const store = createInfluxTimeSeriesStore({ url: `http://127.0.0.1:${await closedPort()}`, token: 't', org: 'o', bucket: 'b', log: silent, timeoutMs: 2_000 });
    const sink = createTimeSeriesSink(store);
    const result = await sink.write(rows(randomUUID(), randomUUID(), Date.now()), new AbortController().signal);
    expect(result).toMatchObject({ ok: false, retryable: true });
    expect((await sink.health()).ok).toBe(false);
  });
});

describe.skipIf(!INFLUX_URL)('influx adapter against a line-protocol peer (VictoriaMetrics)', () => {
  const url = INFLUX_URL!;

  it('writes every sample as device_metrics fields with ms timestamps, and a replay adds nothing', async () => {
    const deviceId = randomUUID();
    const organizationId = randomUUID();
    const start = Math.floor(Date.now() / 1000) * 1000 - 120_000 + 123;
    const batch = rows(deviceId, organizationId, start);
    const sink = createTimeSeriesSink(createInfluxTimeSeriesStore({ url, token: 'test', org: 'ninjait', bucket: 'metrics', log: silent }));
    expect((await sink.health()).ok).toBe(true);
    expect(await sink.write(batch, new AbortController().signal)).toEqual({ ok: true });
    expect(await sink.write(batch, new AbortController().signal)).toEqual({ ok: true });

    const series = await exportSeries(url, deviceId, 6);
    expect([...series.keys()].sort()).toEqual(
      ['device_metrics_cpu', 'device_metrics_disk_usage', 'device_metrics_disk_used', 'device_metrics_memory', 'device_metrics_network_rx', 'device_metrics_network_tx']);
    const timestamps = [start, start + 30_000, start + 60_000];
    const byName = (name: string) => {
      const line = series.get(name)!;
      expect(line.metric.organization_id).toBe(organizationId);
      // A replay writes the same series + timestamp: InfluxDB keeps one point; VictoriaMetrics keeps
      // identical copies until deduplication, so compare per timestamp.
      const unique = new Map(line.timestamps.map((ts, i) => [ts, line.values[i]]));
      expect([...unique.keys()].sort()).toEqual(timestamps);
      return timestamps.map((ts) => unique.get(ts));
    };
    expect(byName('device_metrics_cpu')).toEqual([20, 40, 60]);
    expect(byName('device_metrics_memory')).toEqual([25, 50, 75]);
    expect(byName('device_metrics_disk_used')).toEqual([450_000, 450_000, 450_000]);
    // The busiest file system's share (what the hourly rollup keeps): / at 40 %, /data at 5 %.
    expect(byName('device_metrics_disk_usage')).toEqual([40, 40, 40]);
    expect(byName('device_metrics_network_rx')).toEqual([1_000, 3_000, 0]);
    expect(byName('device_metrics_network_tx')).toEqual([500, 1_500, 0]);
  });

  it('reads the hourly rollup with Flux, which this peer cannot answer: skipped with the reason', async (ctx) => {
    const store = createInfluxTimeSeriesStore({ url, token: 'test', org: 'ninjait', bucket: 'metrics', log: silent });
    const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000;
    const answer = await store.hourlyAggregates(new Date(hour), new Date(hour + 3_600_000)).then(
      (rows) => ({ rows }), (error: unknown) => ({ error: error instanceof Error ? error.message : String(error) }));
    if ('error' in answer && /unsupported path/i.test(answer.error)) {
      // VictoriaMetrics refuses /api/v2/query: the Flux read runs against InfluxDB 2 in test/engines/influxdb2.test.ts (engines workflow).
      console.warn(`influx.int.test: hourly rollup read skipped: this peer cannot answer Flux (${answer.error.slice(0, 120)})`);
      ctx.skip();
    }
    expect(answer).toHaveProperty('rows');
  });

  it('starts without the rollup APIs (a write-only peer) and says so in the log', async () => {
    const warnings: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) });
    const store = await openTimeSeriesStore({ INFLUX_URL: url, INFLUX_TOKEN: 't', INFLUX_ORG: 'ninjait', INFLUX_BUCKET: 'metrics' }, { query: async () => [], health: async () => ({ ok: true, engine: 'x', latencyMs: 0 }) }, log);
    expect(store.engine).toBe('influxdb');
    expect(warnings.join('\n')).toContain('could not set up InfluxDB retention');
  });
});

if (!INFLUX_URL) console.warn('influx.int.test: skipping writes against a real peer: INFLUX_TEST_URL is not set (start one with .ci/start-victoriametrics.sh DIR, then INFLUX_TEST_URL=http://127.0.0.1:8428)');
