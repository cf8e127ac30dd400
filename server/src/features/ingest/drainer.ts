import { backoffMs } from '@ninjait/shared';
import type { RelationalStore } from '../../stores/relational/index.ts';
import type { Metrics } from '../../platform/obs/metrics.ts';
import type { Logger } from '../../platform/obs/logger.ts';
import { failure, type IngestRow, type RejectedRow, type Sink, type WriteResult } from './sinks/types.ts';
import type { IngestLogReader } from './log-reader.ts';
import { failureReason, writeInHalves, type RowOutcome, type WriteFailure } from './isolate.ts';
import { quarantineLogRows } from './quarantine.ts';
import { advanceCursor, releaseCursor, takeCursor } from './drain-cursors.ts';

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
  /** How patient the drainer is with rows that fail; the defaults suit production, tests shorten them. */
  isolation?: Partial<IsolationSettings>;
  metrics: Metrics;
  log: Logger;
}

export interface IsolationSettings {
  /** Failed writes in a row, with errors that look transient, before the drainer suspects a row rather than the store. */
  suspectAfterFailures: number;
  /** Writes one isolation may make (a batch in which every row fails costs two per row). */
  maxWrites: number;
  /** Tries of a row the store refuses (a value it cannot take) before it is quarantined. */
  refusedRowAttempts: number;
  refusedRowPauseMs: number;
  /**
   * A row that fails alone with an error that looks transient, while rows after it are written,
   * is quarantined only after this many isolations spanning at least `transientRowMinMs`. A
   * store that is down fails every row (and its health check), so it never gets this far.
   */
  transientRowAttempts: number;
  transientRowMinMs: number;
}

const DEFAULT_ISOLATION: IsolationSettings = {
  suspectAfterFailures: 3,
  maxWrites: 256,
  refusedRowAttempts: 3,
  refusedRowPauseMs: 100,
  transientRowAttempts: 5,
  transientRowMinMs: 60_000,
};

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
/** Rows named in the one warning a quarantine step logs. */
const QUARANTINE_LOG_EXAMPLES = 10;

/** What to do after a step: wait `ms`; a wake-up (new rows) may cut the wait short when `wakeable`. */
interface Pause { ms: number; wakeable: boolean }

/**
 * How a batch ended: its first `stored` rows are written or set aside (the cursor may pass
 * them); `blocked` is the failure that stops the rest, if any (the drainer backs off).
 */
interface Settlement { stored: number; setAside: RejectedRow[]; blocked: WriteFailure | null }

/**
 * Copies the ingest log into one sink from its own cursor. The cursor moves only after the
 * sink confirmed the batch, so a crash replays (sinks are idempotent) and never skips.
 * One instance at a time holds the sink through a lease row.
 *
 * A store that is down only lags: its failures are retried with backoff and nothing is set
 * aside. A row the store cannot take must not hold up the rows behind it, of every other
 * device and organization: when a batch is refused (or keeps failing while the store is up)
 * the drainer writes it again in halves, writes what it can and quarantines the rows that
 * fail on their own (ingest_quarantine, a counter, a warning).
 */
export function createDrainer(options: DrainerOptions): Drainer {
  const { db, sink, metrics, log } = options;
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  const maxBackoffMs = options.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS;
  const isolation = { ...DEFAULT_ISOLATION, ...options.isolation };
  /** Rows that failed alone with transient-looking errors: how often, since when (by log id). */
  const suspects = new Map<number, { attempts: number; sinceMs: number }>();
  const controller = new AbortController();
  let wakeUp: (() => void) | null = null;
  /**
   * A wake-up that came while no wakeable sleep was running (the drainer was reading or writing):
   * the next wakeable sleep ends at once, so rows appended during a step never wait out a poll.
   */
  let wokenMeanwhile = false;
  let running: Promise<void> | null = null;
  let failures = 0;
  let idleWaiters: (() => void)[] = [];

  // The cursor while this instance holds the lease: only the holder moves it, so it need not be re-read.
  let held: { position: number; renewAt: number } | null = null;

  const sleep = ({ ms, wakeable }: Pause) =>
    new Promise<void>((resolve) => {
      if (wakeable && wokenMeanwhile) {
        wokenMeanwhile = false;
        resolve();
        return;
      }
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
    if (position !== null) sink.leaseTaken?.();
    held = position === null ? null : { position, renewAt: Date.now() + leaseMs / 2 };
    return position;
  }

  async function takeLease(): Promise<number | null> {
    return takeCursor(db, { sink: sink.name, owner: options.instanceId, leaseMs });
  }

  async function advance(position: number): Promise<boolean> {
    const moved = await advanceCursor(db, { sink: sink.name, owner: options.instanceId, leaseMs }, position);
    held = moved ? { position, renewAt: Date.now() + leaseMs / 2 } : null;
    return moved;
  }

  /** Never throws: a sink that breaks its contract fails like any write, classified by its error. */
  async function write(rows: readonly IngestRow[]): Promise<WriteResult> {
    try {
      return await sink.write(rows, controller.signal);
    } catch (error) {
      return failure(error);
    }
  }

  const healthy = () => sink.health().then((health) => health.ok, () => false);
  const sleepMs = (ms: number) => sleep({ ms, wakeable: false });

  /** One step: returns how long to wait before the next. */
  async function step(): Promise<Pause> {
    const position = await cursor();
    if (position === null) {
      // Another instance holds the sink: its lag is that instance's to report. A value left here
      // from before the lease moved would stay in /metrics for good (and win the workers' merge).
      metrics.drainerLagSeconds.remove({ store: sink.name });
      return { ms: leaseMs / 2, wakeable: false };
    }
    const batch = await options.reader.readAfter(position, options.batchRows, sink.name);
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
    const result = await write(batch);
    end();
    const settled: Settlement = result.ok
      ? { stored: batch.length, setAside: [...(result.rejected ?? [])], blocked: null }
      : await recover(batch, result);
    await quarantine(settled.setAside);
    if (settled.stored > 0) {
      const through = batch[settled.stored - 1]!.id;
      for (const id of suspects.keys()) if (id <= through) suspects.delete(id);
      if (!(await advance(through))) log.warn({ sink: sink.name }, 'lost the drainer lease; another instance took over');
    }
    if (settled.blocked) {
      failures++;
      const backoff = backoffMs(failures, { baseMs: 250, maxMs: maxBackoffMs });
      log.warn({ sink: sink.name, err: settled.blocked.error, retryable: settled.blocked.retryable, retryInMs: Math.round(backoff), failures },
        'sink write failed; will retry');
      return { ms: backoff, wakeable: false };
    }
    if (failures > 0) log.info({ sink: sink.name, failures }, 'sink recovered');
    failures = 0;
    // Short of the batch: an isolation ran out of writes, the rest follows at once.
    return { ms: settled.stored < batch.length || batch.length === options.batchRows ? 0 : SETTLE_MS, wakeable: false };
  }

  /** A batch failed: the store or some of its rows? Writes what it can when the rows are suspect. */
  async function recover(batch: readonly IngestRow[], first: WriteFailure): Promise<Settlement> {
    metrics.storeErrors.inc({ store: sink.name });
    const lagOnly: Settlement = { stored: 0, setAside: [], blocked: first };
    // Transient-looking and the store is down, or not failing long enough to suspect a row: an outage, which only lags.
    if (first.retryable && (failures + 1 < isolation.suspectAfterFailures || !(await healthy()))) return lagOnly;
    const outcomes = await writeInHalves(batch, { write, maxWrites: isolation.maxWrites, signal: controller.signal });
    const refused = batch.filter((_, i) => { const o = outcomes[i]!; return o.kind === 'failed' && !o.failure.retryable; });
    // Refusing rows of several devices and taking none: a store (or schema) problem, not bad rows. Quarantining would empty the log.
    if (!outcomes.some((o) => o.kind === 'stored') && new Set(refused.map((row) => row.deviceId)).size > 1) {
      log.error({ sink: sink.name, err: first.error, devices: new Set(refused.map((row) => row.deviceId)).size },
        'the store refuses the rows of several devices and takes none: lagging, not quarantining');
      return lagOnly;
    }
    const settled = await settle(batch, outcomes);
    // Nothing resolved (the write budget ended first): count it as a failed step, so the next one backs off.
    return settled.stored === 0 && !settled.blocked ? { ...settled, blocked: first } : settled;
  }

  /** Walks the rows in log order: the cursor may pass stored and set-aside rows, up to the first row still in doubt. */
  async function settle(batch: readonly IngestRow[], outcomes: RowOutcome[]): Promise<Settlement> {
    const setAside: RejectedRow[] = [];
    for (let i = 0; i < batch.length; i++) {
      const row = batch[i]!;
      const outcome = outcomes[i]!;
      if (outcome.kind === 'untried') return { stored: i, setAside, blocked: null };
      if (outcome.kind === 'rejected') setAside.push({ row, reason: outcome.reason });
      if (outcome.kind !== 'failed') continue;
      const verdict = outcome.failure.retryable
        ? await transientVerdict(row, outcomes.slice(i + 1).some((o) => o.kind === 'stored'), outcome.failure)
        : await refusedVerdict(row, outcome.failure);
      if (verdict.kind === 'hold') return { stored: i, setAside, blocked: verdict.failure };
      if (verdict.kind === 'quarantine') setAside.push({ row, reason: verdict.reason });
    }
    return { stored: batch.length, setAside, blocked: null };
  }

  type Verdict = { kind: 'stored' } | { kind: 'quarantine'; reason: string } | { kind: 'hold'; failure: WriteFailure };

  /** A row the store refused: a few more tries alone (a refusal can be a race), then quarantine. */
  async function refusedVerdict(row: IngestRow, refusal: WriteFailure): Promise<Verdict> {
    let last = refusal;
    for (let attempt = 1; attempt < isolation.refusedRowAttempts; attempt++) {
      await sleepMs(isolation.refusedRowPauseMs * attempt);
      if (controller.signal.aborted) return { kind: 'hold', failure: last };
      const result = await write([row]);
      if (result.ok) return result.rejected?.length ? { kind: 'quarantine', reason: result.rejected[0]!.reason } : { kind: 'stored' };
      last = result;
      if (last.retryable) return { kind: 'hold', failure: last }; // the store itself failed meanwhile
    }
    return { kind: 'quarantine', reason: failureReason(sink.name, last) };
  }

  /**
   * A row that fails alone with a transient-looking error. Counted only when rows after it were
   * written in the same isolation (the store was up), quarantined after enough such isolations
   * over enough time, and only while the store answers its health check.
   */
  async function transientVerdict(row: IngestRow, wroteAfter: boolean, last: WriteFailure): Promise<Verdict> {
    const suspect = suspects.get(row.id) ?? { attempts: 0, sinceMs: Date.now() };
    if (wroteAfter) suspect.attempts++;
    suspects.set(row.id, suspect);
    const longEnough = suspect.attempts >= isolation.transientRowAttempts && Date.now() - suspect.sinceMs >= isolation.transientRowMinMs;
    if (!longEnough || !(await healthy())) return { kind: 'hold', failure: last };
    return { kind: 'quarantine', reason: `${failureReason(sink.name, last)} (failing alone for ${Math.round((Date.now() - suspect.sinceMs) / 60_000)} min while the rows after it were written)` };
  }

  /** Sets rows aside for good; the cursor passes them once this returns. */
  async function quarantine(rows: readonly RejectedRow[]) {
    if (rows.length === 0) return;
    const added = await quarantineLogRows(db, sink.name, rows.map(({ row, reason }) => ({ id: row.id, reason })));
    metrics.recordsQuarantined.inc({ sink: sink.name }, added);
    log.warn({
      sink: sink.name, rows: rows.length,
      examples: rows.slice(0, QUARANTINE_LOG_EXAMPLES).map(({ row, reason }) => ({
        logId: row.id, deviceId: row.deviceId, organizationId: row.organizationId, seq: row.seq, reason,
      })),
    }, 'rows quarantined: the store cannot write them');
  }

  function wake() {
    if (wakeUp) wakeUp();
    else wokenMeanwhile = true;
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
    wake,
    caughtUp() {
      return new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
        wake();
      });
    },
    async stop() {
      controller.abort();
      await running;
      for (const resolve of idleWaiters) resolve();
      await releaseCursor(db, { sink: sink.name, owner: options.instanceId }).catch(() => undefined);
    },
  };
}
