import { join } from 'node:path';
import type { Env } from '../config/index.ts';
import type { Logger } from '../obs/logger.ts';
import type { Metrics } from '../obs/metrics.ts';
import type { AnalyticsStore } from '../stores/analytics/index.ts';
import type { RelationalStore } from '../stores/relational/index.ts';
import { every, type Periodic } from '../jobs/every.ts';
import { withJobLease } from './lease.ts';
import { runHourlyRollup } from './rollup.ts';
import { runDailyBilling } from './billing.ts';
import { copyDeviceCounts, copyTicketEvents, syncDeviceStatuses } from './etl.ts';
import { archiveColdPartitions } from './archive.ts';
import { sampleAnalyticsSizes } from './sizes.ts';

const MINUTE_MS = 60_000;
/** Hourly work is checked more often than hourly: a pending hour is picked up soon after it ends or the server returns. */
const ROLLUP_CHECK_MS = 5 * MINUTE_MS;
const BILLING_CHECK_MS = 60 * MINUTE_MS;
const DEVICE_COUNTS_MS = 5 * MINUTE_MS;
const TICKET_ETL_MS = 10_000;
const STATUS_SYNC_MS = 30_000;
const ARCHIVE_MS = 6 * 60 * MINUTE_MS;
const SIZES_MS = MINUTE_MS;

export interface AnalyticsJobDeps {
  env: Env;
  db: RelationalStore;
  analytics: AnalyticsStore;
  metrics: Metrics;
  log: Logger;
  instanceId: string;
}

/** Starts rollups, billing, the PostgreSQL → ClickHouse ETL, archiving and size sampling; one instance runs each at a time. */
export function startAnalyticsJobs(deps: AnalyticsJobDeps): Periodic[] {
  const { env, db, analytics, metrics, log, instanceId } = deps;
  const leased = (name: string, intervalMs: number, task: () => Promise<unknown>) =>
    every(intervalMs, name, log, () => withJobLease(db, name, instanceId, Math.max(intervalMs, MINUTE_MS) * 2, task));
  return [
    leased('analytics-rollup', ROLLUP_CHECK_MS, async () => {
      const hours = await runHourlyRollup(analytics);
      if (hours.length > 0) log.info({ hours: hours.map((hour) => new Date(hour).toISOString()) }, 'hourly metrics rolled up');
    }),
    leased('analytics-billing', BILLING_CHECK_MS, async () => {
      const days = await runDailyBilling(db, analytics);
      if (days.length > 0) log.info({ days }, 'billing events written');
    }),
    leased('analytics-ticket-etl', TICKET_ETL_MS, () => copyTicketEvents(db, analytics)),
    leased('analytics-device-counts', DEVICE_COUNTS_MS, () => copyDeviceCounts(db, analytics)),
    leased('analytics-status-sync', STATUS_SYNC_MS, () => syncDeviceStatuses(db, analytics)),
    leased('analytics-archive', ARCHIVE_MS, () => archiveColdPartitions(analytics, {
      dir: join(env.DATA_DIR, 'archive'),
      s3: env.S3_URL ? { url: env.S3_URL, accessKeyId: env.S3_ACCESS_KEY_ID, secretAccessKey: env.S3_SECRET_ACCESS_KEY } : undefined,
    }, log, { olderThanDays: env.ARCHIVE_AFTER_DAYS })),
    every(SIZES_MS, 'analytics-sizes', log, () => sampleAnalyticsSizes(analytics, metrics)),
  ];
}
