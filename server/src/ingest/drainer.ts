import type { RelationalStore } from '../stores/relational/index.ts';
import type { Metrics } from '../obs/metrics.ts';
import type { Logger } from '../obs/logger.ts';
import type { Sink } from '../sinks/types.ts';
import type { IngestLogReader } from './log-reader.ts';

export interface DrainerOptions {
  db: RelationalStore;
  /** Shared by the drainers of one instance, so the log is decoded once for every sink. */
  reader: IngestLogReader;
  sink: Sink;
  instanceId: string;
  batchRows: number;
  pollMs: number;
  /** Another instance may take the sink over once this long has passed without progress. */
  leaseMs?: number;
  maxBackoffMs?: number;
  metrics: Metrics;
  log: Logger;
}

export interface Drainer {
  readonly sink: Sink;
  start(): void;
  /** New rows are in the log: skip the rest of the poll wait. */
  wake(): void;
  /** Resolves once the cursor has reached the log's current end (tests, shutdown). */
  caughtUp(): Promise<void>;
  stop(): Promise<void>;
}

const DEFAULT_LEASE_MS = 15_000;
const DEFAULT_MAX_BACKOFF_MS = 30_000;
/**
 * After a short batch (the drainer is at the log's end) the next step waits this long, deaf
 * to wake-ups, so rows gather into one batch: a busy log costs each sink a few writes per
 * second instead of one per group commit (and ClickHouse a few parts instead of hundreds).
 */
const SETTLE_MS = 100;

/** What to do after a step: wait `ms`; a wake-up (new rows) may cut the wait short when `wakeable`. */
interface Pause { ms: number; wakeable: boolean }

/**
 * Copies the ingest log into one sink from its own cursor. The cursor moves only after the
 * sink confirmed the batch, so a crash replays (sinks are idempotent) and never skips.
 * One instance at a time holds the sink through a lease row.
 */
export function createDrainer(options: DrainerOptions): Drainer {
  const { db, sink, metrics, log } = options;
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  const maxBackoffMs = options.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS;
  const controller = new AbortController();
  let wakeUp: (() => void) | null = null;
  let running: Promise<void> | null = null;
  let failures = 0;
  let idleWaiters: (() => void)[] = [];

  // The cursor while this instance holds the lease: only the holder moves it, so it need not be re-read.
  let held: { position: number; renewAt: number } | null = null;

  const sleep = ({ ms, wakeable }: Pause) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        controller.signal.removeEventListener('abort', done);
        wakeUp = null;
        resolve();
      }
      if (wakeable) wakeUp = done;
      controller.signal.addEventListener('abort', done, { once: true });
    });

  /** The cursor, taking or renewing the lease when it is not held or half of it has run out. */
  async function cursor(): Promise<number | null> {
    if (held && Date.now() < held.renewAt) return held.position;
    const position = await takeLease();
    held = position === null ? null : { position, renewAt: Date.now() + leaseMs / 2 };
    return position;
  }

  async function takeLease(): Promise<number | null> {
    await db.query('INSERT INTO drain_cursors (sink) VALUES ($1) ON CONFLICT (sink) DO NOTHING', [sink.name]);
    const { rows } = await db.query<{ position: number }>(
      `UPDATE drain_cursors SET owner = $2, lease_until = NOW() + make_interval(secs => $3 / 1000.0)
       WHERE sink = $1 AND (owner = $2 OR owner IS NULL OR lease_until < NOW()) RETURNING position`,
      [sink.name, options.instanceId, leaseMs],
    );
    return rows[0]?.position ?? null;
  }

  async function advance(position: number): Promise<boolean> {
    const { rowCount } = await db.query(
      `UPDATE drain_cursors SET position = $3, updated_at = NOW(), lease_until = NOW() + make_interval(secs => $4 / 1000.0)
       WHERE sink = $1 AND owner = $2 AND position < $3`,
      [sink.name, options.instanceId, position, leaseMs],
    );
    held = rowCount > 0 ? { position, renewAt: Date.now() + leaseMs / 2 } : null;
    return rowCount > 0;
  }

  /** One step: returns how long to wait before the next. */
  async function step(): Promise<Pause> {
    const position = await cursor();
    if (position === null) return { ms: leaseMs / 2, wakeable: false };
    const batch = await options.reader.readAfter(position, options.batchRows);
    if (batch.length === 0) {
      metrics.drainerLagSeconds.set({ store: sink.name }, 0);
      for (const resolve of idleWaiters) resolve();
      idleWaiters = [];
      return { ms: options.pollMs, wakeable: true };
    }
    metrics.drainerLagSeconds.set({ store: sink.name }, Math.max(0, (Date.now() - batch[0]!.receivedAt.getTime()) / 1000));
    // A full batch means more is waiting: read it while the sink writes this one.
    if (batch.length === options.batchRows) options.reader.readAfter(batch.at(-1)!.id, options.batchRows).catch(() => undefined);
    const end = metrics.storeWriteLatency.startTimer({ store: sink.name });
    const result = await sink.write(batch, controller.signal);
    end();
    if (!result.ok) {
      failures++;
      metrics.storeErrors.inc({ store: sink.name });
      const backoff = Math.min(maxBackoffMs, 250 * 2 ** Math.min(failures, 10)) * (0.5 + Math.random() / 2);
      log.warn({ sink: sink.name, err: result.error, retryInMs: Math.round(backoff), failures }, 'sink write failed; will retry');
      return { ms: backoff, wakeable: false };
    }
    if (failures > 0) log.info({ sink: sink.name, failures }, 'sink recovered');
    failures = 0;
    if (!(await advance(batch.at(-1)!.id))) log.warn({ sink: sink.name }, 'lost the drainer lease; another instance took over');
    return { ms: batch.length < options.batchRows ? SETTLE_MS : 0, wakeable: false };
  }

  async function loop() {
    while (!controller.signal.aborted) {
      let pause: Pause;
      try {
        pause = await step();
      } catch (error) {
        held = null; // the database may have moved on without us: read the cursor again
        metrics.storeErrors.inc({ store: 'ingest_log' });
        log.warn({ sink: sink.name, err: error }, 'drainer could not read the ingest log; will retry');
        pause = { ms: Math.min(maxBackoffMs, options.pollMs * 4), wakeable: false };
      }
      if (pause.ms > 0) await sleep(pause);
    }
  }

  return {
    sink,
    start() {
      running ??= loop();
    },
    wake() {
      wakeUp?.();
    },
    caughtUp() {
      return new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
        wakeUp?.();
      });
    },
    async stop() {
      controller.abort();
      await running;
      for (const resolve of idleWaiters) resolve();
      await db.query('UPDATE drain_cursors SET owner = NULL, lease_until = NULL WHERE sink = $1 AND owner = $2', [sink.name, options.instanceId]).catch(() => undefined);
    },
  };
}
