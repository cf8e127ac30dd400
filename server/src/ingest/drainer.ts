import type { RelationalStore } from '../stores/relational/index.ts';
import type { Metrics } from '../obs/metrics.ts';
import type { Logger } from '../obs/logger.ts';
import type { IngestRow, Sink } from '../sinks/types.ts';

export interface DrainerOptions {
  db: RelationalStore;
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

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        controller.signal.removeEventListener('abort', done);
        wakeUp = null;
        resolve();
      }
      wakeUp = done;
      controller.signal.addEventListener('abort', done, { once: true });
    });

  async function takeLease(): Promise<number | null> {
    await db.query('INSERT INTO drain_cursors (sink) VALUES ($1) ON CONFLICT (sink) DO NOTHING', [sink.name]);
    const { rows } = await db.query<{ position: number }>(
      `UPDATE drain_cursors SET owner = $2, lease_until = NOW() + make_interval(secs => $3 / 1000.0)
       WHERE sink = $1 AND (owner = $2 OR owner IS NULL OR lease_until < NOW()) RETURNING position`,
      [sink.name, options.instanceId, leaseMs],
    );
    return rows[0]?.position ?? null;
  }

  async function readBatch(after: number): Promise<IngestRow[]> {
    const { rows } = await db.query<IngestRow>(
      `SELECT id, device_id AS "deviceId", organization_id AS "organizationId", seq, kind,
         collected_at AS "collectedAt", received_at AS "receivedAt", host(source_ip) AS "sourceIp", payload
       FROM ingest_log WHERE id > $1 ORDER BY id LIMIT $2`,
      [after, options.batchRows],
    );
    return rows;
  }

  async function advance(position: number): Promise<boolean> {
    const { rowCount } = await db.query(
      `UPDATE drain_cursors SET position = $3, updated_at = NOW(), lease_until = NOW() + make_interval(secs => $4 / 1000.0)
       WHERE sink = $1 AND owner = $2 AND position < $3`,
      [sink.name, options.instanceId, position, leaseMs],
    );
    return rowCount > 0;
  }

  /** One step: returns how long to wait before the next (0 = go on at once). */
  async function step(): Promise<number> {
    const cursor = await takeLease();
    if (cursor === null) return leaseMs / 2;
    const batch = await readBatch(cursor);
    if (batch.length === 0) {
      metrics.drainerLagSeconds.set({ store: sink.name }, 0);
      for (const resolve of idleWaiters) resolve();
      idleWaiters = [];
      return options.pollMs;
    }
    metrics.drainerLagSeconds.set({ store: sink.name }, Math.max(0, (Date.now() - batch[0]!.receivedAt.getTime()) / 1000));
    const end = metrics.storeWriteLatency.startTimer({ store: sink.name });
    const result = await sink.write(batch, controller.signal);
    end();
    if (!result.ok) {
      failures++;
      metrics.storeErrors.inc({ store: sink.name });
      const backoff = Math.min(maxBackoffMs, 250 * 2 ** Math.min(failures, 10)) * (0.5 + Math.random() / 2);
      log.warn({ sink: sink.name, err: result.error, retryInMs: Math.round(backoff), failures }, 'sink write failed; will retry');
      return backoff;
    }
    if (failures > 0) log.info({ sink: sink.name, failures }, 'sink recovered');
    failures = 0;
    if (!(await advance(batch.at(-1)!.id))) log.warn({ sink: sink.name }, 'lost the drainer lease; another instance took over');
    return 0;
  }

  async function loop() {
    while (!controller.signal.aborted) {
      let waitMs: number;
      try {
        waitMs = await step();
      } catch (error) {
        metrics.storeErrors.inc({ store: 'ingest_log' });
        log.warn({ sink: sink.name, err: error }, 'drainer could not read the ingest log; will retry');
        waitMs = Math.min(maxBackoffMs, options.pollMs * 4);
      }
      if (waitMs > 0) await sleep(waitMs);
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
