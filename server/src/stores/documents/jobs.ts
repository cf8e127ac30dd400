import type { Env } from '../../config/index.ts';
import type { Logger } from '../../obs/logger.ts';
import type { Metrics } from '../../obs/metrics.ts';
import { every, type Periodic } from '../../jobs/every.ts';
import type { RelationalStore } from '../relational/index.ts';
import type { DocumentStore } from './types.ts';

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

/** PostgreSQL's database size and the documents' size, into `ninjait_store_size_bytes`. */
export async function sampleStoreSizes(deps: { db: RelationalStore; documents: DocumentStore; metrics: Pick<Metrics, 'storeSizeBytes'> }) {
  const { rows } = await deps.db.query<{ bytes: number }>('SELECT pg_database_size(current_database())::bigint AS bytes');
  deps.metrics.storeSizeBytes.set({ store: 'relational' }, rows[0]?.bytes ?? 0);
  deps.metrics.storeSizeBytes.set({ store: 'documents' }, await deps.documents.sizeBytes());
}

/**
 * Periodic upkeep of the documents store: sizes sampled every STORE_SIZE_SAMPLE_MS; hourly,
 * logs past LOG_RETENTION_DAYS deleted where there is no TTL index, and indexes ensured
 * (a MongoDB that was down at start gets them once it is back).
 */
export function startDocumentJobs(deps: { env: Env; db: RelationalStore; documents: DocumentStore; metrics: Metrics; log: Logger }): Periodic[] {
  const { env, documents, log } = deps;
  sampleStoreSizes(deps).catch((error: unknown) => log.warn({ err: error }, 'could not sample store sizes'));
  return [
    every(env.STORE_SIZE_SAMPLE_MS, 'store-sizes', log, () => sampleStoreSizes(deps)),
    every(HOUR_MS, 'documents-upkeep', log, async () => {
      await documents.init();
      const removed = await documents.expireLogs(new Date(Date.now() - env.LOG_RETENTION_DAYS * DAY_MS));
      if (removed > 0) log.info({ removed }, 'expired old logs');
    }),
  ];
}
