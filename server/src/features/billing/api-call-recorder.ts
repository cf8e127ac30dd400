import type { AnalyticsStore } from '../../stores/analytics/index.ts';
import type { Logger } from '../../platform/obs/logger.ts';
import type { Metrics } from '../../platform/obs/metrics.ts';
import type { ApiCallRow } from '../../platform/trpc/caller.ts';

export type { ApiCallRow };


export interface ApiCallRecorderOptions {
  flushMs: number;
  batchRows: number;
  /** Past this many waiting rows (ClickHouse down for long), new rows are dropped and counted. */
  maxRows: number;
  metrics: Metrics;
  log: Logger;
}

export interface ApiCallRecorder {
  /** Never waits and never throws: the call being recorded is already answered. */
  record(row: ApiCallRow): void;
  /** Writes what is waiting; failures keep the rows for the next try. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

const WARN_EVERY_MS = 60_000;

/** Buffers api_calls rows in memory and writes them in batches, every `flushMs` or every `batchRows`. */
export function createApiCallRecorder(analytics: AnalyticsStore, options: ApiCallRecorderOptions): ApiCallRecorder {
  const { metrics, log } = options;
  let buffer: ApiCallRow[] = [];
  let flushing: Promise<void> | null = null;
  let lastWarnMs = 0;

  async function writeAll() {
    while (buffer.length > 0) {
      const batch = buffer.slice(0, options.batchRows);
      try {
        await analytics.insert('api_calls', batch);
      } catch (error) {
        if (Date.now() - lastWarnMs > WARN_EVERY_MS) {
          lastWarnMs = Date.now();
          log.warn({ err: error, waiting: buffer.length }, 'api_calls write failed; rows kept for the next flush');
        }
        return;
      }
      buffer = buffer.slice(batch.length);
      metrics.apiCallsBuffered.set(buffer.length);
    }
  }

  function flush(): Promise<void> {
    flushing ??= writeAll().finally(() => {
      flushing = null;
    });
    return flushing;
  }

  const timer = setInterval(() => void flush(), options.flushMs);
  timer.unref();

  return {
    record(row) {
      if (buffer.length >= options.maxRows) {
        metrics.apiCallsDropped.inc();
        return;
      }
      buffer.push(row);
      metrics.apiCallsBuffered.set(buffer.length);
      if (buffer.length >= options.batchRows && !flushing) void flush();
    },
    flush,
    async close() {
      clearInterval(timer);
      await flushing;
      await flush();
    },
  };
}
