import type { RelationalStore } from '../relational/index.ts';
import type { DocumentStore } from './types.ts';
import { createRelationalDocumentStore } from './embedded/relational-documents.ts';

export type { AuditEntry, AuditQuery, DocumentCollection, DocumentStore, LogEntry, LogLevel, LogQuery } from './types.ts';
export { LOG_LEVELS } from './types.ts';
export { createRelationalDocumentStore };
export { instrumentDocumentStore, timed, type QueryObserver } from './instrumented.ts';

const DAY_SEC = 24 * 60 * 60;

/**
 * MongoDB when a URL is given, JSONB tables in the relational store otherwise. Call `init()` before use.
 * The MongoDB driver is loaded only then: its BSON serializer allocates a 17 MB buffer as it loads,
 * a tenth of an idle embedded server's memory for a store it does not use.
 */
export async function openDocumentStore(options: {
  mongodbUrl?: string | undefined;
  mongodbDatabase: string;
  logRetentionDays: number;
  db: RelationalStore;
}): Promise<DocumentStore> {
  if (options.mongodbUrl) {
    const { createMongoDocumentStore } = await import('./mongo/mongo-documents.ts');
    return createMongoDocumentStore({ url: options.mongodbUrl, database: options.mongodbDatabase, logRetentionSec: options.logRetentionDays * DAY_SEC });
  }
  return createRelationalDocumentStore(options.db);
}
