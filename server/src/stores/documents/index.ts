import type { RelationalStore } from '../relational/index.ts';
import type { DocumentStore } from './types.ts';
import { createRelationalDocumentStore } from './embedded/relational-documents.ts';
import { createMongoDocumentStore } from './mongo/mongo-documents.ts';

export type { AuditEntry, AuditQuery, DocumentCollection, DocumentStore, LogEntry, LogLevel, LogQuery } from './types.ts';
export { LOG_LEVELS } from './types.ts';
export { createRelationalDocumentStore, createMongoDocumentStore };
export { instrumentDocumentStore, timed, type QueryObserver } from './instrumented.ts';

const DAY_SEC = 24 * 60 * 60;

/** MongoDB when a URL is given, JSONB tables in the relational store otherwise. Call `init()` before use. */
export function openDocumentStore(options: {
  mongodbUrl?: string | undefined;
  mongodbDatabase: string;
  logRetentionDays: number;
  db: RelationalStore;
}): DocumentStore {
  if (options.mongodbUrl) {
    return createMongoDocumentStore({ url: options.mongodbUrl, database: options.mongodbDatabase, logRetentionSec: options.logRetentionDays * DAY_SEC });
  }
  return createRelationalDocumentStore(options.db);
}
