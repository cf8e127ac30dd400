import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { AnalyticsStore } from '../../stores/analytics/index.ts';
import type { Logger } from '../../platform/obs/logger.ts';
import { DAY_MS } from '../../stores/analytics/time.ts';

/**
 * The tables whose old months leave hot storage (raw samples and heartbeats expire by TTL).
 * billing_events stays: it is one row per organization per day, and an invoice for an old month
 * must read the same as when it was sent (the invoice reads it, not the archive).
 */
export const ARCHIVED_TABLES = ['device_metrics_hourly', 'ticket_events', 'api_calls'] as const;

export interface ArchiveTarget {
  /** Local folder (DATA_DIR/archive); used when no S3 URL is set. */
  dir: string;
  s3?: { url: string; accessKeyId?: string | undefined; secretAccessKey?: string | undefined } | undefined;
}

export interface ArchivedPartition { table: string; partitionId: string; rows: number; location: string }

const literal = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

function s3Function(target: NonNullable<ArchiveTarget['s3']>, path: string) {
  const url = `${target.url.replace(/\/+$/, '')}/${path}`;
  const credentials = target.accessKeyId && target.secretAccessKey ? `, ${literal(target.accessKeyId)}, ${literal(target.secretAccessKey)}` : '';
  return `s3(${literal(url)}${credentials}, 'Parquet')`;
}

/** Partitions whose newest row is older than the cutoff. */
async function coldPartitions(analytics: AnalyticsStore, cutoffMs: number) {
  return analytics.query<{ table: string; partition_id: string; rows: string }>(
    `SELECT table, partition_id, sum(rows) AS rows FROM system.parts
     WHERE active AND database = currentDatabase() AND table IN {tables:Array(String)}
     GROUP BY table, partition_id
     HAVING max(greatest(toUnixTimestamp(max_time), toUnixTimestamp(toDateTime(max_date)))) < {cutoff:UInt32}
     ORDER BY table, partition_id`,
    { tables: [...ARCHIVED_TABLES], cutoff: Math.floor(cutoffMs / 1000) },
  );
}

const count = async (analytics: AnalyticsStore, sql: string, params?: Record<string, string>) =>
  Number((await analytics.query<{ n: string }>(sql, params))[0]?.n ?? -1);

/**
 * Exports each cold partition to Parquet (S3 through the s3() table function, or a local file
 * through INTO OUTFILE), reads the export back, and drops the partition only when the row
 * counts match. A failed or short export leaves the partition where it is.
 */
export async function archiveColdPartitions(
  analytics: AnalyticsStore, target: ArchiveTarget, log: Logger, options: { olderThanDays: number; nowMs?: number },
): Promise<ArchivedPartition[]> {
  if (!target.s3 && analytics.engine !== 'chdb') {
    log.warn('archiving to a local folder needs the embedded engine; set S3_URL to archive from a ClickHouse server');
    return [];
  }
  const cutoff = (options.nowMs ?? Date.now()) - options.olderThanDays * DAY_MS;
  const archived: ArchivedPartition[] = [];
  for (const part of await coldPartitions(analytics, cutoff)) {
    const { table, partition_id: partitionId } = part;
    if (!/^[A-Za-z0-9_-]+$/.test(partitionId)) continue;
    const select = `SELECT * FROM ${table} WHERE _partition_id = ${literal(partitionId)}`;
    const before = await count(analytics, `SELECT count() AS n FROM ${table} WHERE _partition_id = {p:String}`, { p: partitionId });
    let location: string;
    let exported: number;
    if (target.s3) {
      const fn = s3Function(target.s3, `${table}/${partitionId}.parquet`);
      location = `${target.s3.url.replace(/\/+$/, '')}/${table}/${partitionId}.parquet`;
      await analytics.exec(`INSERT INTO FUNCTION ${fn} ${select} SETTINGS s3_truncate_on_insert = 1`);
      exported = await count(analytics, `SELECT count() AS n FROM ${fn}`);
    } else {
      const dir = resolve(join(target.dir, table));
      await mkdir(dir, { recursive: true });
      location = join(dir, `${partitionId}.parquet`);
      await analytics.exec(`${select} INTO OUTFILE ${literal(location)} TRUNCATE FORMAT Parquet`);
      exported = await count(analytics, `SELECT count() AS n FROM file(${literal(location)}, Parquet)`);
    }
    const after = await count(analytics, `SELECT count() AS n FROM ${table} WHERE _partition_id = {p:String}`, { p: partitionId });
    if (exported !== before || after !== before) {
      log.error({ table, partitionId, before, exported, after, location }, 'archive export did not verify; partition kept');
      continue;
    }
    await analytics.exec(`ALTER TABLE ${table} DROP PARTITION ID ${literal(partitionId)}`);
    log.info({ table, partitionId, rows: exported, location }, 'partition archived and dropped');
    archived.push({ table, partitionId, rows: exported, location });
  }
  return archived;
}
