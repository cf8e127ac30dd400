import { deriveMetrics, storableCount, type DerivedMetrics } from '@ninjait/shared';
import type { AnalyticsStore } from '../../../stores/analytics/index.ts';
import { markHoursDirty } from '../../analytics/index.ts';
import { isoDate, unixSec, utcDateTime64 } from '../../../stores/analytics/time.ts';
import { lineProtocolBytes, metricsToPoint } from '../../../stores/timeseries/index.ts';
import { failure, success, latestPerDevice, type IngestRow, type Sink } from './types.ts';
import { splitStorable } from './values.ts';
import { countedSequences } from '../clickhouse-queries.ts';

/**
 * One `device_metrics_raw` row; the columns the time-series port reads when InfluxDB is not
 * configured. The numbers are `deriveMetrics`' (so `disk_usage` is the busiest file system's
 * share, as the console shows it), with 0 for what the sample lacks; the row's time must be
 * storable (`splitStorable`), or the timestamp is null.
 */
export function rawMetricRow(row: IngestRow & { kind: 'sample' }) {
  return rawRowOf(row, deriveMetrics(row.payload));
}

function rawRowOf(row: IngestRow & { kind: 'sample' }, metrics: DerivedMetrics) {
  return {
    device_id: row.deviceId,
    organization_id: row.organizationId,
    timestamp: utcDateTime64(row.collectedAt),
    seq: row.seq,
    cpu: metrics.cpuPercent ?? 0,
    memory: metrics.memoryPercent ?? 0,
    memory_used: metrics.memoryUsedBytes ?? 0,
    disk_used: metrics.diskUsedBytes ?? 0,
    disk_usage: metrics.diskPercent ?? 0,
    network_in: storableCount(metrics.rxBytesPerSec),
    network_out: storableCount(metrics.txBytesPerSec),
  };
}

type Sample = IngestRow & { kind: 'sample' };
/** A sample with its metrics and UTC day, worked out once for the raw row, the marks and the usage count. */
type Measured = { row: Sample; metrics: DerivedMetrics; day: string };

function measured(row: Sample): Measured {
  return { row, metrics: deriveMetrics(row.payload), day: isoDate(row.collectedAt.getTime()) };
}

const markKey = (deviceId: string, day: string) => `${deviceId}/${day}`;

/**
 * What a device's day counted before this batch: the highest sequence (a writer that sees each
 * device's samples in order, under the drainer's lease) or the set of this batch's sequences
 * already counted (writers that share a JetStream consumer, which see them in any order).
 */
export type CountedSoFar = number | ReadonlySet<number>;

const alreadyCounted = (before: CountedSoFar | undefined, seq: number) =>
  typeof before === 'number' ? seq <= before : before?.has(seq) ?? false;

/**
 * One `metric_usage_daily` row per device and UTC day of the batch: how many samples, their size
 * as line protocol, the highest sequence number and the sequences counted. Billing's storage
 * figure, the same whichever store keeps the series. Samples `counted` already (a replay), or
 * twice in the batch (a redelivery), are left out.
 */
export function usageRows(samples: readonly Measured[], counted: ReadonlyMap<string, CountedSoFar> = new Map()) {
  const usage = new Map<string, { organization_id: string; device_id: string; day: string; samples: number; bytes: number; max_seq: number; seqs: number[] }>();
  const inBatch = new Map<string, Set<number>>();
  for (const { row, metrics, day } of samples) {
    const key = markKey(row.deviceId, day);
    if (alreadyCounted(counted.get(key), row.seq)) continue;
    const seen = inBatch.get(key) ?? new Set<number>();
    if (seen.has(row.seq)) continue;
    seen.add(row.seq);
    inBatch.set(key, seen);
    const entry = usage.get(key) ?? { organization_id: row.organizationId, device_id: row.deviceId, day, samples: 0, bytes: 0, max_seq: 0, seqs: [] };
    entry.samples += 1;
    entry.bytes += lineProtocolBytes(metricsToPoint(row, metrics));
    entry.max_seq = Math.max(entry.max_seq, row.seq);
    entry.seqs.push(row.seq);
    usage.set(key, entry);
  }
  return [...usage.values()];
}

/** The devices and days of a batch's samples, each once. */
function daysOf(samples: readonly Measured[], known: (key: string) => boolean = () => false) {
  const unknown = new Map<string, { deviceId: string; day: string }>();
  for (const { row, day } of samples) {
    const key = markKey(row.deviceId, day);
    if (!known(key)) unknown.set(key, { deviceId: row.deviceId, day });
  }
  const ids = [...new Set([...unknown.values()].map((key) => key.deviceId))];
  const days = [...new Set([...unknown.values()].map((key) => key.day))];
  return { keys: [...unknown.keys()], ids, days };
}

/** Entries of the counted-watermark memory before it is emptied (a day of 100,000 devices). */
const MAX_REMEMBERED_MARKS = 100_000;

/**
 * The highest sequence number already counted in `metric_usage_daily` per device and day (keys
 * `device/day`), for the one writer a lease makes. A device's sequence numbers grow in log order,
 * so any sample not counted yet is above its day's mark; per day, because a write that failed
 * half way (one month's part stored, another's not) may have counted a later day before an
 * earlier one.
 *
 * Read from ClickHouse once per device and day, then kept: while this instance holds the sink's
 * lease nobody else counts, so its own writes are the only change. `forget()` empties it when
 * that may no longer hold (the lease was taken again, a write failed in an unknown state).
 */
function countedMarks(analytics: AnalyticsStore) {
  const marks = new Map<string, number>();
  return {
    async of(samples: readonly Measured[]): Promise<ReadonlyMap<string, number>> {
      const { keys, ids, days } = daysOf(samples, (key) => marks.has(key));
      if (keys.length === 0) return marks;
      if (marks.size + keys.length > MAX_REMEMBERED_MARKS) marks.clear();
      const counted = await countedSequences(analytics, ids, days);
      for (const key of keys) marks.set(key, 0);
      for (const row of counted) marks.set(markKey(row.deviceId, row.day), row.seq);
      return marks;
    },
    counted(rows: readonly { device_id: string; day: string; max_seq: number }[]) {
      for (const row of rows) {
        const key = markKey(row.device_id, row.day);
        marks.set(key, Math.max(marks.get(key) ?? 0, row.max_seq));
      }
    },
    forget: () => marks.clear(),
  };
}

/**
 * Which of the batch's sequences each device's day counted already, read for every batch: for
 * writers without a lease, whose batches hold a device's samples in any order and may be
 * redelivered to another instance, so no watermark and no memory between batches holds.
 */
async function countedSets(analytics: AnalyticsStore, samples: readonly Measured[]): Promise<ReadonlyMap<string, CountedSoFar>> {
  const { keys, ids, days } = daysOf(samples);
  const sets = new Map<string, CountedSoFar>(keys.map((key) => [key, new Set<number>()]));
  if (keys.length === 0) return sets;
  const seqs = [...new Set(samples.map(({ row }) => row.seq))];
  for (const row of await countedSequences(analytics, ids, days, seqs)) sets.set(markKey(row.deviceId, row.day), new Set(row.present));
  return sets;
}

/**
 * The insert deduplication token of a batch: its first and last row id and a hash of every id
 * in it, so only the same rows make the same token. The PostgreSQL log's drainer reads
 * contiguous ranges, where the two ids alone would do; the JetStream log's instances share a
 * consumer and take interleaved, redelivered messages, so two different batches can begin and
 * end at the same ids, and the second would have been dropped as a replay of the first.
 */
export function batchToken(batch: readonly IngestRow[]): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (const row of batch) {
    // Two FNV-1a-style 32-bit lanes over the ids: 64 bits, ample for rows of the same first and last id.
    h1 = Math.imul(h1 ^ (row.id % 0x1_0000_0000), 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ Math.floor(row.id / 0x1_0000_0000) ^ h1, 0x0100_0193) >>> 0;
  }
  return `ingest:${batch[0]?.id ?? 0}-${batch.at(-1)?.id ?? 0}:${batch.length}:${h1.toString(16)}${h2.toString(16)}`;
}

export interface ClickhouseSinkOptions {
  /**
   * Write every sample to `device_metrics_raw`: true when that table is the time-series store
   * (no InfluxDB configured). With InfluxDB the raw series live there only, and ClickHouse keeps
   * the heartbeats, the usage counts and the rollup's dirty hours (it reads InfluxDB's series).
   */
  rawSamples: boolean;
}

/**
 * Samples to `device_metrics_raw` (when `rawSamples`), one 'online' heartbeat per device to
 * `device_heartbeats`, the samples' usage to `metric_usage_daily`, and the finished hours that got
 * samples marked dirty for the hourly rollup. Replays are dropped by the insert deduplication
 * token (a hash of the batch's log ids) and, failing that, raw rows collapse on the raw table's
 * (device_id, timestamp, seq) key, and usage counts skip what each device's day counted (`usageRows`).
 */
export function createClickhouseSink(analytics: AnalyticsStore, options: ClickhouseSinkOptions): Sink {
  const marks = countedMarks(analytics);
  // Watermarks hold only for the one writer a lease makes: a drainer that never takes one (the
  // JetStream log's, whose instances share a consumer) asks which sequences were counted instead.
  let leased = false;
  return {
    name: 'clickhouse',
    async init() {},
    leaseTaken() {
      leased = true;
      marks.forget();
    },
    async write(batch) {
      const first = batch[0];
      const last = batch.at(-1);
      if (!first || !last) return { ok: true };
      try {
        const { storable, rejected } = splitStorable(batch);
        const token = batchToken(batch);
        const samples = storable.filter((row): row is Sample => row.kind === 'sample').map(measured);
        const heartbeats = [...latestPerDevice(storable).values()].map((row) => ({
          organization_id: row.organizationId,
          device_id: row.deviceId,
          status: 'online',
          timestamp: unixSec(row.collectedAt.getTime()),
        }));
        // Side by side, not one after another: in a backlog the other sinks' drainers wait for this
        // one (log-reader.ts), so its round trips are everyone's. Any of them failing fails the
        // batch before the usage is counted, and the retry's tokens drop what did go through.
        const counted = leased ? marks.of(samples) : countedSets(analytics, samples);
        await Promise.all([
          options.rawSamples ? analytics.insert('device_metrics_raw', samples.map(({ row, metrics }) => rawRowOf(row, metrics)), { dedupToken: token }) : null,
          analytics.insert('device_heartbeats', heartbeats, { dedupToken: token }),
          markHoursDirty(analytics, samples.map(({ row }) => row.collectedAt.getTime())),
          counted,
        ]);
        // Last: a batch that failed before it counted nothing, and its retry counts each sample once.
        const usage = usageRows(samples, await counted);
        await analytics.insert('metric_usage_daily', usage, { dedupToken: token });
        if (leased) marks.counted(usage);
        return success(rejected);
      } catch (error) {
        // The usage insert may have gone through before the error: read the marks again.
        marks.forget();
        return failure(error);
      }
    },
    health: () => analytics.health(),
    async close() {},
  };
}
