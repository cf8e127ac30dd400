import type { Env } from '../../platform/config/index.ts';
import type { Logger } from '../../platform/obs/logger.ts';
import type { Job } from '../../platform/scheduler/scheduler.ts';
import type { DocumentStore } from '../../stores/documents/index.ts';

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

/**
 * Hourly: logs past LOG_RETENTION_DAYS deleted where there is no TTL index, and the documents'
 * indexes ensured (a MongoDB that was down at start gets them once it is back).
 */
export function logJobs(deps: { env: Env; documents: DocumentStore; log: Logger }): Job[] {
  const { env, documents, log } = deps;
  return [{
    name: 'documents-upkeep',
    everyMs: HOUR_MS,
    async run() {
      await documents.init();
      const removed = await documents.expireLogs(new Date(Date.now() - env.LOG_RETENTION_DAYS * DAY_MS));
      if (removed > 0) log.info({ removed }, 'expired old logs');
    },
  }];
}
