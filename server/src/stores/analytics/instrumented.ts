import type { Logger } from '../../platform/obs/logger.ts';
import type { Metrics } from '../../platform/obs/metrics.ts';
import type { AnalyticsStore } from './types.ts';

export interface InstrumentOptions {
  metrics: Metrics;
  log: Logger;
  slowQueryMs: number;
}

const STORE = 'analytics';

/** A ClickHouse string literal (quotes doubled or backslash-escaped inside), or one left open to the end. */
const STRING_LITERAL = /'(?:[^'\\]|\\[^]|'')*(?:'|$)/g;

/**
 * The statement as logged: values bound as `{name:Type}` are not in it, but literals are, and an
 * archive to S3 writes the secret key as one (`s3(url, key, secret, format)`); logs are read by more people.
 */
export const loggableSql = (text: string) =>
  // Redacted before it is cut, and an unterminated quote hides the rest: no part of a literal shows.
  text.replace(STRING_LITERAL, (literal) => (literal.length > 1 && literal.endsWith("'") ? "'…'" : "'…")).slice(0, 4_000);

/** Wraps a store so every call is timed and counted (store="analytics"), and slow ones are logged with their text. */
export function instrumentAnalytics(store: AnalyticsStore, { metrics, log, slowQueryMs }: InstrumentOptions): AnalyticsStore {
  async function timed<T>(operation: 'exec' | 'query' | 'insert', text: string, call: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await call();
    } catch (error) {
      metrics.storeErrors.inc({ store: STORE });
      throw error;
    } finally {
      const elapsedMs = performance.now() - started;
      metrics.storeQueryLatency.observe({ store: STORE, operation }, elapsedMs / 1000);
      if (elapsedMs >= slowQueryMs) {
        metrics.slowQueries.inc({ store: STORE });
        log.warn({ store: STORE, engine: store.engine, operation, elapsedMs: Math.round(elapsedMs), sql: loggableSql(text) }, 'slow analytics query');
      }
    }
  }
  return {
    engine: store.engine,
    exec: (sql, params) => timed('exec', sql, () => store.exec(sql, params)),
    query: (sql, params) => timed('query', sql, () => store.query(sql, params)),
    insert: (table, rows, options) => timed('insert', `INSERT INTO ${table} (${rows.length} rows)`, () => store.insert(table, rows, options)),
    health: () => store.health(),
    close: () => store.close(),
  };
}
