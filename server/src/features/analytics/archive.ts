import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { AnalyticsStore } from '../../stores/analytics/index.ts';
import type { Logger } from '../../platform/obs/logger.ts';
import { DAY_MS } from '../../stores/analytics/time.ts';
import {
  coldPartitions, dropPartition, exportPartitionToFile, exportPartitionToS3, fileRowCount, partitionRowCount, s3RowCount, type S3Target,
} from './clickhouse-queries.ts';

/**
 * The tables whose old months leave hot storage (raw samples and heartbeats expire by TTL).
 * billing_events stays: it is one row per organization per day, and an invoice for an old month
 * must read the same as when it was sent (the invoice reads it, not the archive).
 */
export const ARCHIVED_TABLES = ['device_metrics_hourly', 'ticket_events', 'api_calls'] as const;

export interface ArchiveTarget {
  /** Local folder (DATA_DIR/archive); used when no S3 URL is set. */
  dir: string;
  s3?: S3Target | undefined;
}

export interface ArchivedPartition { table: string; partitionId: string; rows: number; location: string }

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
  for (const { table, partitionId } of await coldPartitions(analytics, ARCHIVED_TABLES, cutoff)) {
    if (!/^[A-Za-z0-9_-]+$/.test(partitionId)) continue;
    const before = await partitionRowCount(analytics, table, partitionId);
    let location: string;
    let exported: number;
    if (target.s3) {
      const path = `${table}/${partitionId}.parquet`;
      location = `${target.s3.url.replace(/\/+$/, '')}/${path}`;
      await exportPartitionToS3(analytics, table, partitionId, target.s3, path);
      exported = await s3RowCount(analytics, target.s3, path);
    } else {
      const dir = resolve(join(target.dir, table));
      await mkdir(dir, { recursive: true });
      location = join(dir, `${partitionId}.parquet`);
      await exportPartitionToFile(analytics, table, partitionId, location);
      exported = await fileRowCount(analytics, location);
    }
    const after = await partitionRowCount(analytics, table, partitionId);
    if (exported !== before || after !== before) {
      log.error({ table, partitionId, before, exported, after, location }, 'archive export did not verify; partition kept');
      continue;
    }
    await dropPartition(analytics, table, partitionId);
    log.info({ table, partitionId, rows: exported, location }, 'partition archived and dropped');
    archived.push({ table, partitionId, rows: exported, location });
  }
  return archived;
}
