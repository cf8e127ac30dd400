import { timed, type QueryObserver } from '../../platform/obs/query-observer.ts';
import type { DocumentStore } from './types.ts';

export { timed, type QueryObserver };

/** The same store with every read and write observed. */
export function instrumentDocumentStore(store: DocumentStore, observer: QueryObserver): DocumentStore {
  const name = 'documents';
  return {
    ...store,
    engine: store.engine,
    logs: {
      insert: (docs) => timed(observer, name, 'logs.insert', () => `logs.insert(${docs.length})`, () => store.logs.insert(docs)),
      find: (query) => timed(observer, name, 'logs.find', () => `logs.find(${JSON.stringify(query)})`, () => store.logs.find(query)),
    },
    auditLog: {
      insert: (docs) => timed(observer, name, 'audit_log.insert', () => `audit_log.insert(${docs.length})`, () => store.auditLog.insert(docs)),
      find: (query) => timed(observer, name, 'audit_log.find', () => `audit_log.find(${JSON.stringify(query)})`, () => store.auditLog.find(query)),
    },
  };
}
