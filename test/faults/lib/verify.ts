import pg from 'pg';
import { Redis } from 'ioredis';
import { expect } from 'vitest';
import { openAnalyticsStore } from '@ninjait/server/stores/analytics';
import { waitFor } from '../../support/processes.ts';
import type { PrivateVictoriaMetrics } from '../../support/private-stores.ts';

/** What an agent says it collected: sequence numbers 1 .. nextSeq-1, of which `droppedTotal` it dropped (oldest first). */
export interface Collected {
  deviceId: string;
  nextSeq: number;
  droppedTotal: number;
  /** When the agent knows exactly which ones it dropped (simulated agents drop none). */
  droppedSeqs?: number[];
  /** The newest this many were still in the outbox at the end: each may or may not have been logged. */
  buffered?: number;
}

export interface DeviceFigures {
  collected: number;
  dropped: number;
  ingestLog: number;
  samples: number;
  clickhouse: number;
  clickhouseRawRows: number;
  victoria?: number;
  cacheSeq: number;
}

/** Waits until every drainer's cursor has reached the end of the ingest log (server still running). */
export async function waitForDrainers(databaseUrl: string, sinks: string[], timeoutMs = 60_000): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await waitFor(`drainers ${sinks.join(', ')} to catch up`, async () => {
      const { rows: [end] } = await client.query<{ max: string | null }>('SELECT max(id) AS max FROM ingest_log');
      const { rows } = await client.query<{ sink: string; position: string }>('SELECT sink, position FROM drain_cursors');
      const positions = new Map(rows.map((row) => [row.sink, Number(row.position)]));
      return sinks.every((sink) => (positions.get(sink) ?? -1) >= Number(end?.max ?? 0));
    }, timeoutMs, 250);
  } finally {
    await client.end();
  }
}

export interface VerifyOptions {
  databaseUrl: string;
  redisUrl: string;
  /** The ClickHouse server's URL, or the stopped server's DATA_DIR (embedded chdb in DATA_DIR/chdb). */
  analytics: { url: string } | { dataDir: string };
  victoria?: PrivateVictoriaMetrics | null;
  /** The ingest log's records of a device in sequence order, duplicates included; the `ingest_log` table when absent. */
  logRows?: (deviceId: string) => Promise<{ seq: number; kind: string; at: Date }[]>;
}

const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

/**
 * Checks every store against what the agents collected: each sequence number they did not drop is
 * in the ingest log exactly once, every sample is in ClickHouse's raw table once (in VictoriaMetrics
 * instead when it is configured) and counted once in ClickHouse's usage table,
 * PostgreSQL's device state and last_seen and the cache's latest value are those of the newest sample.
 */
export async function verifyStores(options: VerifyOptions, agents: Collected[]): Promise<Map<string, DeviceFigures>> {
  const db = new pg.Client({ connectionString: options.databaseUrl });
  await db.connect();
  const redis = new Redis(options.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  const analytics = openAnalyticsStore('url' in options.analytics
    ? { clickhouseUrl: options.analytics.url, dataDir: '/nonexistent' }
    : { dataDir: options.analytics.dataDir });
  const figures = new Map<string, DeviceFigures>();
  try {
    for (const agent of agents) {
      const { deviceId } = agent;
      const rows = options.logRows ? await options.logRows(deviceId) : (await db.query<{ seq: string; kind: string; at: Date }>(
        'SELECT seq, kind, collected_at AS at FROM ingest_log WHERE device_id = $1 ORDER BY seq', [deviceId])).rows;
      const seqs = rows.map((row) => Number(row.seq));
      const dropped = agent.droppedSeqs ?? range(1, agent.droppedTotal); // nothing was acked before drops in these tests
      const droppedSet = new Set(dropped);
      // Records still in the outbox when the agent stopped may have been logged (ack lost in the stop) or not.
      const last = Math.min(agent.nextSeq - 1, Math.max(agent.nextSeq - 1 - (agent.buffered ?? 0), seqs.at(-1) ?? 0));
      const expected = range(1, last).filter((seq) => !droppedSet.has(seq));
      expect(seqs, `ingest_log of ${deviceId}`).toEqual(expected);
      expect(dropped.length).toBe(agent.droppedTotal);

      const samples = rows.filter((row) => row.kind === 'sample');
      const newest = samples.at(-1);
      const { rows: [state] } = await db.query<{ lastSeq: string }>('SELECT last_seq AS "lastSeq" FROM device_ingest_state WHERE device_id = $1', [deviceId]);
      expect(Number(state?.lastSeq), `device_ingest_state of ${deviceId}`).toBe(expected.at(-1) ?? 0);
      const { rows: [device] } = await db.query<{ lastSeen: Date | null; dropped: string }>(
        'SELECT last_seen AS "lastSeen", dropped_total AS dropped FROM devices WHERE id = $1', [deviceId]);
      expect(device?.lastSeen?.getTime(), `devices.last_seen of ${deviceId}`).toBe(newest?.at.getTime());

      const cached = await redis.get(`device:latest:${deviceId}`);
      const cacheSeq = cached ? (JSON.parse(cached) as { seq: number }).seq : 0;
      expect(cacheSeq, `cache latest seq of ${deviceId}`).toBe(Number(newest?.seq ?? 0));

      const sampleSeqs = samples.map((row) => Number(row.seq));
      const chSeqs = await analytics.query<{ seq: number }>(
        'SELECT seq FROM device_metrics_raw FINAL WHERE device_id = {device:UUID} ORDER BY seq', { device: deviceId });
      const [counts] = await analytics.query<{ n: number; u: number }>(
        'SELECT count() AS n, uniqExact(seq) AS u FROM device_metrics_raw FINAL WHERE device_id = {device:UUID}', { device: deviceId });
      const [raw] = await analytics.query<{ n: number }>(
        'SELECT count() AS n FROM device_metrics_raw WHERE device_id = {device:UUID}', { device: deviceId });
      // The ClickHouse sink counts every sample once in the usage billing reads, whichever store keeps the series.
      const [usage] = await analytics.query<{ n: number }>(
        'SELECT sum(samples) AS n FROM metric_usage_daily WHERE device_id = {device:UUID}', { device: deviceId });
      expect(Number(usage?.n ?? 0), `metric_usage_daily samples of ${deviceId}`).toBe(samples.length);
      // With VictoriaMetrics configured it holds the raw series alone: ClickHouse keeps no second copy.
      expect(chSeqs.map((row) => Number(row.seq)), `device_metrics_raw of ${deviceId}`).toEqual(options.victoria ? [] : sampleSeqs);
      expect(Number(counts?.n)).toBe(Number(counts?.u));

      let victoria: number | undefined;
      if (options.victoria) {
        const expected = samples.map((row) => row.at.getTime()).sort((a, b) => a - b);
        const sorted = async () => [...await options.victoria!.timestamps(deviceId)].sort((a, b) => a - b);
        // VictoriaMetrics acknowledges a write before the point can be read: its ingestion buffers
        // reach the searchable parts within about a second, which /internal/force_flush does not
        // cut short (tried on Debian's build). So the last points are waited for, a few seconds at
        // most, and then the series must be exactly the samples: none missing, none twice.
        let timestamps = await sorted();
        for (const deadline = Date.now() + 10_000; timestamps.length < expected.length && Date.now() < deadline;) {
          await new Promise((done) => setTimeout(done, 250));
          timestamps = await sorted();
        }
        victoria = timestamps.length;
        expect(timestamps, `VictoriaMetrics points of ${deviceId}`).toEqual(expected);
      }
      figures.set(deviceId, {
        collected: last, dropped: agent.droppedTotal, ingestLog: seqs.length, samples: samples.length,
        clickhouse: options.victoria ? Number(usage?.n ?? 0) : chSeqs.length, clickhouseRawRows: Number(raw?.n ?? 0), cacheSeq, ...(victoria !== undefined ? { victoria } : {}),
      });
    }
  } finally {
    await analytics.close();
    redis.disconnect();
    await db.end();
  }
  return figures;
}

/** Sums per-device figures for the report. */
export function totals(figures: Map<string, DeviceFigures>) {
  const sum = { devices: figures.size, collected: 0, dropped: 0, ingestLog: 0, samples: 0, clickhouse: 0, clickhouseRawRows: 0, victoria: 0 };
  for (const f of figures.values()) {
    sum.collected += f.collected;
    sum.dropped += f.dropped;
    sum.ingestLog += f.ingestLog;
    sum.samples += f.samples;
    sum.clickhouse += f.clickhouse;
    sum.clickhouseRawRows += f.clickhouseRawRows;
    sum.victoria += f.victoria ?? 0;
  }
  return sum;
}
