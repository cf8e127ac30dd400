import { HttpError, type InfluxDB } from '@influxdata/influxdb-client';
import { BucketsAPI, OrgsAPI, TasksAPI } from '@influxdata/influxdb-client-apis';
import type { Logger } from '../../../platform/obs/logger.ts';
import { downsampleTasks, retentionBuckets } from './flux.ts';

export interface RetentionReport {
  createdBuckets: string[];
  /** Buckets whose retention was changed to the strategy's, with what it was before. */
  updatedBuckets: { name: string; fromSeconds: number; toSeconds: number }[];
  /** Buckets whose retention differs and was left as the operator set it (INFLUX_KEEP_RETENTION). */
  keptBuckets: { name: string; everySeconds: number; expected: number }[];
  createdTasks: string[];
  updatedTasks: string[];
}

export interface RetentionOptions {
  /** Leave an existing bucket's retention as it is (an operator chose another); the strategy's figures otherwise. */
  keepExistingRetention?: boolean;
}

const isNotFound = (error: unknown) => error instanceof HttpError && error.statusCode === 404;

/**
 * Brings the raw, 5-minute and 1-hour buckets and the downsampling tasks to the strategy's
 * figures (InfluxDB 2 only): missing ones are created, an existing bucket with another retention
 * is updated (docker-compose's setup creates `metrics` with its own; a bucket kept longer than 7
 * days would also keep raw points the rollups already hold), unless `keepExistingRetention`.
 * Tasks whose Flux differs from ours are updated. Every change is logged. Needs a token allowed
 * to manage buckets and tasks.
 */
export async function ensureRetention(
  influx: InfluxDB, org: string, rawBucket: string, log: Pick<Logger, 'info' | 'warn'>, options: RetentionOptions = {},
): Promise<RetentionReport> {
  const report: RetentionReport = { createdBuckets: [], updatedBuckets: [], keptBuckets: [], createdTasks: [], updatedTasks: [] };
  const orgs = await new OrgsAPI(influx).getOrgs({ org });
  const orgID = orgs.orgs?.[0]?.id;
  if (!orgID) throw new Error(`InfluxDB organization "${org}" not found`);

  const bucketsApi = new BucketsAPI(influx);
  for (const bucket of Object.values(retentionBuckets(rawBucket))) {
    const found = await bucketsApi.getBuckets({ orgID, name: bucket.name }).catch((error: unknown) => {
      if (isNotFound(error)) return { buckets: [] };
      throw error;
    });
    const existing = found.buckets?.find((candidate) => candidate.name === bucket.name);
    if (!existing) {
      await bucketsApi.postBuckets({
        body: { orgID, name: bucket.name, description: 'NinjaIT device metrics', retentionRules: [{ type: 'expire', everySeconds: bucket.everySeconds }] },
      });
      report.createdBuckets.push(bucket.name);
      continue;
    }
    // No rule, or 0 seconds, is InfluxDB's "keep forever".
    const everySeconds = existing.retentionRules?.[0]?.everySeconds ?? 0;
    if (everySeconds === bucket.everySeconds) continue;
    if (options.keepExistingRetention) {
      report.keptBuckets.push({ name: bucket.name, everySeconds, expected: bucket.everySeconds });
      continue;
    }
    await bucketsApi.patchBucketsID({
      bucketID: existing.id!,
      body: { retentionRules: [{ type: 'expire', everySeconds: bucket.everySeconds }] },
    });
    report.updatedBuckets.push({ name: bucket.name, fromSeconds: everySeconds, toSeconds: bucket.everySeconds });
  }
  if (report.keptBuckets.length > 0) {
    log.warn({ buckets: report.keptBuckets }, 'InfluxDB bucket retention differs from the strategy; left as it is (INFLUX_KEEP_RETENTION)');
  }

  const tasksApi = new TasksAPI(influx);
  for (const task of downsampleTasks(rawBucket, org)) {
    const found = await tasksApi.getTasks({ orgID, name: task.name });
    const existing = found.tasks?.find((candidate) => candidate.name === task.name);
    if (!existing) {
      await tasksApi.postTasks({ body: { orgID, flux: task.flux, status: 'active', description: 'NinjaIT downsampling' } });
      report.createdTasks.push(task.name);
    } else if (existing.flux.trim() !== task.flux.trim()) {
      await tasksApi.patchTasksID({ taskID: existing.id, body: { flux: task.flux, status: 'active' } });
      report.updatedTasks.push(task.name);
    }
  }
  if (report.createdBuckets.length + report.updatedBuckets.length + report.createdTasks.length + report.updatedTasks.length > 0) {
    log.info(report, 'InfluxDB retention buckets and downsampling tasks set up');
  }
  return report;
}
