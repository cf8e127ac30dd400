import { join } from 'node:path';
import type { Env } from '../../platform/config/index.ts';
import type { Logger } from '../../platform/obs/logger.ts';
import type { Metrics } from '../../platform/obs/metrics.ts';
import type { AnalyticsStore } from '../../stores/analytics/index.ts';
import type { RelationalStore } from '../../stores/relational/index.ts';
import type { Job } from '../../platform/scheduler/scheduler.ts';
import { runHourlyRollup, type HourlySource } from './rollup.ts';
import { runDailyBilling } from '../billing/index.ts';
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
  /** Where the hourly rollup reads samples: InfluxDB when configured, the raw table otherwise. */
  timeseries: HourlySource & { readonly engine: string };
  metrics: Metrics;
  log: Logger;
}

/** Rollups, billing, the PostgreSQL → ClickHouse ETL and archiving (one instance runs each at a time), and size sampling. */
export function analyticsJobs(deps: AnalyticsJobDeps): Job[] {
  const { env, db, analytics, timeseries, metrics, log } = deps;
  return [
    { name: 'analytics-rollup', everyMs: ROLLUP_CHECK_MS, exclusive: true, async run() {
      const hours = await runHourlyRollup(analytics, timeseries);
      if (hours.length > 0) log.info({ hours: hours.map((hour) => new Date(hour).toISOString()), source: timeseries.engine }, 'hourly metrics rolled up');
    } },
    { name: 'analytics-billing', everyMs: BILLING_CHECK_MS, exclusive: true, async run() {
      const days = await runDailyBilling(db, analytics);
      if (days.length > 0) log.info({ days }, 'billing events written');
    } },
    { name: 'analytics-ticket-etl', everyMs: TICKET_ETL_MS, exclusive: true, run: () => copyTicketEvents(db, analytics) },
    { name: 'analytics-device-counts', everyMs: DEVICE_COUNTS_MS, exclusive: true, run: () => copyDeviceCounts(db, analytics) },
    { name: 'analytics-status-sync', everyMs: STATUS_SYNC_MS, exclusive: true, run: () => syncDeviceStatuses(db, analytics) },
    { name: 'analytics-archive', everyMs: ARCHIVE_MS, exclusive: true, run: () => archiveColdPartitions(analytics, {
      dir: join(env.DATA_DIR, 'archive'),
      s3: env.S3_URL ? { url: env.S3_URL, accessKeyId: env.S3_ACCESS_KEY_ID, secretAccessKey: env.S3_SECRET_ACCESS_KEY } : undefined,
    }, log, { olderThanDays: env.ARCHIVE_AFTER_DAYS }) },
    { name: 'analytics-sizes', everyMs: SIZES_MS, run: () => sampleAnalyticsSizes(analytics, metrics) },
  ];
}
