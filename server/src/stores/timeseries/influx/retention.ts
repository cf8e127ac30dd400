import { HttpError, type InfluxDB } from '@influxdata/influxdb-client';
import { BucketsAPI, OrgsAPI, TasksAPI } from '@influxdata/influxdb-client-apis';
import type { Logger } from '../../../obs/logger.ts';
import { downsampleTasks, retentionBuckets } from './flux.ts';

export interface RetentionReport {
  createdBuckets: string[];
  createdTasks: string[];
  updatedTasks: string[];
}

const isNotFound = (error: unknown) => error instanceof HttpError && error.statusCode === 404;

/**
 * Creates the raw, 5-minute and 1-hour buckets and the downsampling tasks when they are missing
 * (InfluxDB 2 only). Existing buckets keep their retention (an operator may have chosen another);
 * tasks whose Flux differs from ours are updated. Needs a token allowed to manage buckets and tasks.
 */
export async function ensureRetention(influx: InfluxDB, org: string, rawBucket: string, log: Pick<Logger, 'info' | 'warn'>): Promise<RetentionReport> {
  const report: RetentionReport = { createdBuckets: [], createdTasks: [], updatedTasks: [] };
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
    if (existing) {
      const everySeconds = existing.retentionRules?.[0]?.everySeconds ?? 0;
      if (everySeconds !== bucket.everySeconds) {
        log.warn({ bucket: bucket.name, everySeconds, expected: bucket.everySeconds }, 'InfluxDB bucket retention differs from the strategy; left as it is');
      }
      continue;
    }
    await bucketsApi.postBuckets({
      body: { orgID, name: bucket.name, description: 'NinjaIT device metrics', retentionRules: [{ type: 'expire', everySeconds: bucket.everySeconds }] },
    });
    report.createdBuckets.push(bucket.name);
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
  if (report.createdBuckets.length + report.createdTasks.length + report.updatedTasks.length > 0) {
    log.info(report, 'InfluxDB retention buckets and downsampling tasks set up');
  }
  return report;
}
