import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';
import type { WarnLimiter } from './warn-limiter.ts';

/** One query slower than SLOW_QUERY_MS, as logged and as the slow-query alerts receive it. */
export interface SlowQuery {
  /** The store's name in metrics: relational, cache, timeseries, documents. */
  store: string;
  /** A bounded name for what ran (e.g. `select`, `get`, `logs.find`), never the text itself. */
  operation: string;
  durationMs: number;
  /** The query text: shapes, placeholders and ids, never bound values or secrets. */
  query: string;
}

/** What `timed` reports to: the query latency histogram, the error counter, the slow-query log and its listener. */
export interface QueryObserver {
  metrics: Pick<Metrics, 'storeQueryLatency' | 'storeErrors' | 'slowQueries'>;
  log: Pick<Logger, 'warn'>;
  slowQueryMs: number;
  /** When set, the same slow statement is logged once per quiet period, with how many were held back. */
  warnLimiter?: WarnLimiter;
  /** Told of each slow query after it is logged (the alerts feature raises them); must not throw. */
  onSlowQuery?: (query: SlowQuery) => void;
}

/** Query texts are cut here in logs and alerts: a bulk insert's text can be megabytes. */
const MAX_QUERY_TEXT = 2_000;

/**
 * Runs one store operation, recording its latency and failure; slower than the threshold, it
 * logs the query text (which holds shapes and ids, never secrets) at warn and tells the listener.
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
      const query = text().slice(0, MAX_QUERY_TEXT);
      const durationMs = Math.round(ms);
      const line = observer.warnLimiter ? observer.warnLimiter(`slow query:${store}:${operation}:${query}`) : { repeatedSinceLast: 0 };
      if (line) observer.log.warn({ store, operation, durationMs, query, ...(line.repeatedSinceLast > 0 && { repeatedSinceLast: line.repeatedSinceLast }) }, 'slow query');
      observer.onSlowQuery?.({ store, operation, durationMs, query });
    }
  }
}
