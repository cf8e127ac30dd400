import type { ConsumerMessages, JetStreamClient, JsMsg } from '@nats-io/jetstream';
import type { RelationalStore } from '../../../stores/relational/index.ts';
import type { Metrics } from '../../../platform/obs/metrics.ts';
import type { Logger } from '../../../platform/obs/logger.ts';
import type { Drainer } from '../drainer.ts';
import { failure, type IngestRow, type RejectedRow, type Sink, type WriteResult } from '../sinks/types.ts';
import { failureReason, writeInHalves } from '../isolate.ts';
import { quarantineRows } from '../quarantine.ts';
import { decodeRecord } from './record.ts';
import { consumerName } from './stream.ts';

export interface JetStreamDrainerOptions {
  js: JetStreamClient;
  db: RelationalStore;
  stream: string;
  sink: Sink;
  batchRows: number;
  /** Deliveries of a row that fails alone while its store answers, before it is quarantined. */
  maxDeliveries: number;
  maxBackoffMs?: number;
  metrics: Metrics;
  log: Logger;
}

/** Rows gather this long after the first arrives, so a busy log costs each sink a few writes per second. */
const SETTLE_MS = 100;
const DEFAULT_MAX_BACKOFF_MS = 30_000;
/** Writes one isolation of a failed batch may make. */
const MAX_ISOLATION_WRITES = 256;
/** How long a pull waits on an idle stream before asking again (also how soon a closed consumer is noticed). */
const PULL_EXPIRES_MS = 5_000;

/**
 * Copies the JetStream log into one sink through the sink's durable consumer. Every instance
 * binds to the same consumer, so JetStream shares the rows among them (no lease: a row is out to
 * one instance until acked or its ack wait ends). A row is acked only after the sink's idempotent
 * write; a crash redelivers it. A store that is down only lags (rows are nak'ed with backoff);
 * when a batch fails with the store up, it is written again in halves, and a row that keeps failing
 * alone goes to ingest_quarantine once JetStream delivered it `maxDeliveries` times.
 */
export function createJetStreamDrainer(options: JetStreamDrainerOptions): Drainer {
  const { js, db, sink, metrics, log } = options;
  const maxBackoffMs = options.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS;
  const controller = new AbortController();
  let messages: ConsumerMessages | null = null;
  let running: Promise<void> | null = null;
  let buffer: JsMsg[] = [];
  let settleTimer: NodeJS.Timeout | null = null;
  let chain: Promise<void> = Promise.resolve();
  let failures = 0;

  const backoffMs = () => Math.round(Math.min(maxBackoffMs, 250 * 2 ** Math.min(failures, 10)) * (0.5 + Math.random() / 2));
  const healthy = () => sink.health().then((health) => health.ok, () => false);

  async function write(rows: readonly IngestRow[]): Promise<WriteResult> {
    try {
      return await sink.write(rows, controller.signal);
    } catch (error) {
      return failure(error);
    }
  }

  /** Queues what is buffered for writing; batches are written one after another. */
  function flush(): Promise<void> {
    if (settleTimer) clearTimeout(settleTimer);
    settleTimer = null;
    const batch = buffer;
    buffer = [];
    if (batch.length > 0) chain = chain.then(() => writeBatch(batch)).catch((error: unknown) => {
      log.warn({ sink: sink.name, err: error }, 'drainer step failed; the rows come again');
    });
    return chain;
  }

  async function writeBatch(messagesIn: JsMsg[]): Promise<void> {
    const rows: IngestRow[] = [];
    const byRow = new Map<IngestRow, JsMsg>();
    for (const msg of messagesIn) {
      try {
        const row = decodeRecord(msg.seq, msg.string());
        rows.push(row);
        byRow.set(row, msg);
      } catch (error) {
        // Not a record of ours: no store can take it and nobody can say whose it is.
        log.warn({ sink: sink.name, streamSeq: msg.seq, subject: msg.subject, err: error }, 'dropped a message that is not an ingest record');
        msg.term('not an ingest record');
      }
    }
    if (rows.length === 0) return;
    metrics.drainerLagSeconds.set({ store: sink.name }, Math.max(0, (Date.now() - rows[0]!.receivedAt.getTime()) / 1000));
    const end = metrics.storeWriteLatency.startTimer({ store: sink.name });
    const result = await write(rows);
    end();
    if (result.ok) {
      await settle(rows, byRow, rows, [...(result.rejected ?? [])]);
      // Nothing left behind the last row: the sink is at the log's end.
      if (messagesIn.at(-1)!.info.pending === 0) metrics.drainerLagSeconds.set({ store: sink.name }, 0);
      if (failures > 0) log.info({ sink: sink.name, failures }, 'sink recovered');
      failures = 0;
      return;
    }
    metrics.storeErrors.inc({ store: sink.name });
    failures++;
    // An outage: nothing is suspect, every row comes again after a backoff.
    if (result.retryable && !(await healthy())) {
      const delay = backoffMs();
      log.warn({ sink: sink.name, err: result.error, retryInMs: delay, failures }, 'sink write failed; will retry');
      for (const msg of messagesIn) msg.nak(delay);
      return;
    }
    const outcomes = await writeInHalves(rows, { write, maxWrites: MAX_ISOLATION_WRITES, signal: controller.signal });
    const stored: IngestRow[] = [];
    const setAside: RejectedRow[] = [];
    const delay = backoffMs();
    rows.forEach((row, i) => {
      const outcome = outcomes[i]!;
      const msg = byRow.get(row)!;
      if (outcome.kind === 'stored') stored.push(row);
      else if (outcome.kind === 'rejected') setAside.push({ row, reason: outcome.reason });
      else if (outcome.kind === 'failed' && msg.info.deliveryCount >= options.maxDeliveries) {
        setAside.push({ row, reason: `${failureReason(sink.name, outcome.failure)} (failed alone in ${msg.info.deliveryCount} deliveries)` });
      } else msg.nak(delay);
    });
    await settle(rows, byRow, stored, setAside);
  }

  /** Quarantines what is set aside, then acks it with what was stored: the stream forgets them. */
  async function settle(rows: readonly IngestRow[], byRow: Map<IngestRow, JsMsg>, stored: readonly IngestRow[], setAside: readonly RejectedRow[]) {
    if (setAside.length > 0) {
      const added = await quarantineRows(db, sink.name, setAside);
      metrics.recordsQuarantined.inc({ sink: sink.name }, added);
      log.warn({
        sink: sink.name, rows: setAside.length,
        examples: setAside.slice(0, 10).map(({ row, reason }) => ({ streamSeq: row.id, deviceId: row.deviceId, organizationId: row.organizationId, seq: row.seq, reason })),
      }, 'rows quarantined: the store cannot write them');
    }
    const done = new Set([...stored, ...setAside.map(({ row }) => row)]);
    for (const row of rows) if (done.has(row)) byRow.get(row)!.ack();
  }

  async function loop() {
    while (!controller.signal.aborted) {
      try {
        const consumer = await js.consumers.get(options.stream, consumerName(sink.name));
        messages = await consumer.consume({ max_messages: options.batchRows, expires: PULL_EXPIRES_MS });
        for await (const msg of messages) {
          buffer.push(msg);
          if (buffer.length >= options.batchRows) await flush();
          else settleTimer ??= setTimeout(() => void flush(), SETTLE_MS);
        }
        await flush();
      } catch (error) {
        if (controller.signal.aborted) break;
        metrics.storeErrors.inc({ store: 'ingest_log' });
        log.warn({ sink: sink.name, err: error }, 'drainer could not read the ingest log; will retry');
        await new Promise((resolve) => setTimeout(resolve, backoffMs()));
      }
    }
  }

  return {
    sink,
    start() {
      running ??= loop();
    },
    wake() {
      // JetStream pushes new rows to the pull already waiting.
    },
    async caughtUp() {
      // The consumer's own count of rows not yet delivered and not yet acked.
      for (;;) {
        await chain;
        const info = await (await js.consumers.get(options.stream, consumerName(sink.name))).info(true);
        if (info.num_pending === 0 && info.num_ack_pending === 0 && buffer.length === 0) return;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async stop() {
      controller.abort();
      await messages?.close();
      await running;
      await flush();
    },
  };
}
