import type { Logger } from '../../obs/logger.ts';
import type { Metrics } from '../../obs/metrics.ts';
import type { DocumentStore } from './types.ts';

/** What `timed` reports to: the query latency histogram, the error counter and the slow-query log. */
export interface QueryObserver {
  metrics: Pick<Metrics, 'storeQueryLatency' | 'storeErrors' | 'slowQueries'>;
  log: Pick<Logger, 'warn'>;
  slowQueryMs: number;
}

/**
 * Runs one store operation, recording its latency and failure; slower than the threshold, it
 * logs the query text (which holds shapes and ids, never secrets) at warn.
 */
export async function timed<T>(observer: QueryObserver, store: string, operation: string, text: () => string, run: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await run();
  } catch (error) {
    observer.metrics.storeErrors.inc({ store });
    throw error;
  } finally {
    const ms = performance.now() - started;
    observer.metrics.storeQueryLatency.observe({ store, operation }, ms / 1000);
    if (ms > observer.slowQueryMs) {
      observer.metrics.slowQueries.inc({ store });
      observer.log.warn({ store, operation, durationMs: Math.round(ms), query: text() }, 'slow query');
    }
  }
}

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
