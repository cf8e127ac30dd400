import { randomBytes } from 'node:crypto';
import { pino, type DestinationStream, type Level } from 'pino';
import { agentErrorLogs, digest, MAX_DETAILS_CHARS, truncate, type AgentError } from './agent-errors.ts';
import { isUuid, backoffMs, waitAtMost } from '@ninjait/shared';
import type { DocumentStore, LogEntry, LogLevel } from '../../stores/documents/index.ts';
import type { Metrics } from '../../platform/obs/metrics.ts';

const LEVELS: Record<number, LogLevel> = { 40: 'warn', 50: 'error', 60: 'fatal' };
const OWN_KEYS = new Set(['time', 'level', 'msg', 'name', 'pid', 'hostname', 'err', 'error', 'agentError', 'deviceId', 'organizationId']);
const MAX_CONTEXT_KEYS = 20;
const MAX_CONTEXT_CHARS = 500;

export interface LogShipperOptions {
  /** Lines kept while the store is slow or down; past it the oldest are dropped and counted. */
  maxBufferedLines?: number;
  batchSize?: number;
  flushMs?: number;
  maxBackoffMs?: number;
  closeTimeoutMs?: number;
}

export interface LogShipper {
  /** pino's destination interface: parses and queues, never waits. */
  write(line: string): void;
  /** Starts shipping to the store (lines written before are kept, within the bound). */
  attach(documents: Pick<DocumentStore, 'logs'>, metrics?: Pick<Metrics, 'logsShipped' | 'logsDropped'>): void;
  /** Ships what is queued now (tests, shutdown); never rejects. */
  flush(): Promise<void>;
  close(): Promise<void>;
  readonly stats: { shipped: number; dropped: number; failures: number; buffered: number };
}

const uuidOrNull = (value: unknown) => (typeof value === 'string' && isUuid(value) ? value : null);

/** One pino JSON line (already redacted by the logger) as a `logs` document, or null if it is not one. */
export function logLineToEntry(line: string, id: string): LogEntry | null {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return null;
  }
  const level = LEVELS[Number(record.level)];
  if (!level) return null;
  const deviceId = uuidOrNull(record.deviceId);
  const organizationId = uuidOrNull(record.organizationId);
  const agentError = record.agentError as Partial<AgentError> | undefined;
  // The heartbeat's "agent reported an error" line: stored as the agent's own error, deduplicated.
  if (deviceId && agentError && typeof agentError.at === 'number' && typeof agentError.code === 'string') {
    return agentErrorLogs({ deviceId, organizationId }, [{ at: agentError.at, code: agentError.code, message: String(agentError.message ?? '') }])[0]!;
  }
  const err = (record.err ?? record.error) as Record<string, unknown> | undefined;
  const context = Object.fromEntries(
    Object.entries(record)
      .filter(([key, value]) => !OWN_KEYS.has(key) && ['string', 'number', 'boolean'].includes(typeof value))
      .slice(0, MAX_CONTEXT_KEYS)
      .map(([key, value]) => [key, typeof value === 'string' ? truncate(value, MAX_CONTEXT_CHARS) : value as number | boolean]),
  );
  return {
    id,
    timestamp: new Date(typeof record.time === 'number' ? record.time : Date.now()),
    level,
    service: typeof record.name === 'string' ? record.name : 'ninjait',
    message: truncate(String(record.msg ?? ''), MAX_DETAILS_CHARS),
    deviceId,
    organizationId,
    error: err && typeof err === 'object'
      ? {
          code: String(err.code ?? err.type ?? 'Error'),
          details: truncate([err.message, err.stack].filter((part) => typeof part === 'string').join('\n'), MAX_DETAILS_CHARS),
        }
      : null,
    ...(Object.keys(context).length > 0 ? { context } : {}),
  };
}

/**
 * A pino destination that batches warnings and errors into the documents store's `logs`.
 * Bounded (drops the oldest when full, counted), never blocks the logger, never logs its own
 * failures through the logger it serves (that would feed itself); it retries with backoff.
 */
export function createLogShipper(options: LogShipperOptions = {}): LogShipper {
  const maxBuffered = options.maxBufferedLines ?? 1_000;
  const batchSize = options.batchSize ?? 200;
  const maxBackoffMs = options.maxBackoffMs ?? 30_000;
  const nonce = randomBytes(8).toString('hex');
  const buffer: LogEntry[] = [];
  const stats = { shipped: 0, dropped: 0, failures: 0, buffered: 0 };
  let counter = 0;
  let store: Pick<DocumentStore, 'logs'> | null = null;
  let metrics: Pick<Metrics, 'logsShipped' | 'logsDropped'> | undefined;
  let inFlight: Promise<void> | null = null;
  let retryAt = 0;
  let consecutiveFailures = 0;

  const trim = () => {
    const excess = buffer.length - maxBuffered;
    if (excess <= 0) return;
    buffer.splice(0, excess);
    stats.dropped += excess;
    metrics?.logsDropped.inc(excess);
  };

  async function shipOnce(): Promise<void> {
    while (store && buffer.length > 0 && Date.now() >= retryAt) {
      const batch = buffer.splice(0, batchSize);
      try {
        await store.logs.insert(batch);
        stats.shipped += batch.length;
        metrics?.logsShipped.inc(batch.length);
        consecutiveFailures = 0;
      } catch {
        buffer.unshift(...batch);
        trim();
        stats.failures++;
        consecutiveFailures++;
        retryAt = Date.now() + backoffMs(consecutiveFailures, { baseMs: 500, maxMs: maxBackoffMs, jitter: 'none' });
      }
    }
    stats.buffered = buffer.length;
  }

  function flush(): Promise<void> {
    inFlight ??= shipOnce().finally(() => {
      inFlight = null;
    });
    return inFlight;
  }

  /** Ships until the queue is empty or the store fails once (a shipment already under way is awaited first). */
  async function drain(): Promise<void> {
    retryAt = 0;
    for (;;) {
      await flush();
      if (!store || buffer.length === 0 || Date.now() < retryAt) return;
    }
  }

  const timer = setInterval(() => void flush(), options.flushMs ?? 1_000);
  timer.unref();

  return {
    write(line: string) {
      const entry = logLineToEntry(line, digest(nonce, counter++));
      if (!entry) return;
      buffer.push(entry);
      trim();
      stats.buffered = buffer.length;
      if (buffer.length >= batchSize) void flush();
    },
    attach(documents, shipperMetrics) {
      store = documents;
      metrics = shipperMetrics;
      void flush();
    },
    flush: drain,
    /** Last shipment, bounded in time: shutdown never waits on a store that hangs. */
    async close() {
      clearInterval(timer);
      await waitAtMost(drain(), options.closeTimeoutMs ?? 5_000);
    },
    stats,
  };
}

/** Standard output at `level`, plus the shipper for warnings and worse: pass to `createLogger`. */
export function shippingDestination(level: string, shipper: LogShipper): DestinationStream {
  const streams: pino.StreamEntry[] = [{ level: 'warn', stream: shipper }];
  if (level !== 'silent') streams.unshift({ level: level as Level, stream: pino.destination(1) });
  return pino.multistream(streams);
}

const RANK: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

/** The logger's own level: `LOG_LEVEL` for standard output, but never above warn, so warnings still ship. */
export function shippingLevel(level: string): string {
  return (RANK[level] ?? 30) > RANK.warn! ? 'warn' : level;
}
