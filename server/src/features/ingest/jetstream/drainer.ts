import type { ConsumerMessages, JetStreamClient, JsMsg } from '@nats-io/jetstream';
import type { RelationalStore } from '../../../stores/relational/index.ts';
import type { Metrics } from '../../../platform/obs/metrics.ts';
import type { Logger } from '../../../platform/obs/logger.ts';
import type { Drainer } from '../drainer.ts';
import { failure, type IngestRow, type RejectedRow, type Sink, type WriteResult } from '../sinks/types.ts';
import { failureReason, writeInHalves } from '../isolate.ts';
import { quarantineRows } from '../quarantine.ts';
import { decodeMessage } from './record.ts';
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
 * Messages asked for per pull, as a share of a batch's rows: a message is a push (often dozens
 * of records), and a pull of `batchRows` messages would hold that many pushes in memory.
 */
const MESSAGES_PER_PULL_SHARE = 10;

/** A message and the rows it carries (a push; one row in the format before pushes were batched). */
interface Delivery {
  msg: JsMsg;
  rows: IngestRow[];
}

/**
 * Copies the JetStream log into one sink through the sink's durable consumer. Every instance
 * binds to the same consumer, so JetStream shares the messages (pushes) among them (no lease: a
 * message is out to one instance until acked or its ack wait ends). A message is acked only after
 * the sink's idempotent write of all its rows; a crash redelivers it. A store that is down only
 * lags (messages are nak'ed with backoff); when a batch fails with the store up, it is written
 * again in halves, and a row that keeps failing alone goes to ingest_quarantine once JetStream
 * delivered its message `maxDeliveries` times. Acks stay one per message (explicit): acking the
 * last of a batch (AckPolicy.All) would also ack messages out to other instances or nak'ed here.
 */
export function createJetStreamDrainer(options: JetStreamDrainerOptions): Drainer {
  const { js, db, sink, metrics, log } = options;
  const maxBackoffMs = options.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS;
  const controller = new AbortController();
  let messages: ConsumerMessages | null = null;
  let running: Promise<void> | null = null;
  let buffer: Delivery[] = [];
  let bufferedRows = 0;
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
    bufferedRows = 0;
    if (batch.length > 0) chain = chain.then(() => writeBatch(batch)).catch((error: unknown) => {
      log.warn({ sink: sink.name, err: error }, 'drainer step failed; the rows come again');
    });
    return chain;
  }

  async function writeBatch(deliveries: Delivery[]): Promise<void> {
    const rows = deliveries.flatMap((delivery) => delivery.rows);
    if (rows.length === 0) return;
    metrics.drainerLagSeconds.set({ store: sink.name }, Math.max(0, (Date.now() - rows[0]!.receivedAt.getTime()) / 1000));
    const end = metrics.storeWriteLatency.startTimer({ store: sink.name });
    const result = await write(rows);
    end();
    if (result.ok) {
      await settle(deliveries, rows, [...(result.rejected ?? [])]);
      // Nothing left behind the last message: the sink is at the log's end.
      if (deliveries.at(-1)!.msg.info.pending === 0) metrics.drainerLagSeconds.set({ store: sink.name }, 0);
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
      for (const { msg } of deliveries) msg.nak(delay);
      return;
    }
    const outcomes = await writeInHalves(rows, { write, maxWrites: MAX_ISOLATION_WRITES, signal: controller.signal });
    const stored: IngestRow[] = [];
    const setAside: RejectedRow[] = [];
    let i = 0;
    for (const { msg, rows: carried } of deliveries) {
      for (const row of carried) {
        const outcome = outcomes[i++]!;
        if (outcome.kind === 'stored') stored.push(row);
        else if (outcome.kind === 'rejected') setAside.push({ row, reason: outcome.reason });
        else if (outcome.kind === 'failed' && msg.info.deliveryCount >= options.maxDeliveries) {
          setAside.push({ row, reason: `${failureReason(sink.name, outcome.failure)} (failed alone in ${msg.info.deliveryCount} deliveries)` });
        }
      }
    }
    await settle(deliveries, stored, setAside);
  }

  /**
   * Quarantines what is set aside, then acks each message whose rows are all stored or set
   * aside: the stream forgets it. A message with a row still failing comes again after a
   * backoff, the rows of it already stored with it (every sink's write is idempotent).
   */
  async function settle(deliveries: readonly Delivery[], stored: readonly IngestRow[], setAside: readonly RejectedRow[]) {
    if (setAside.length > 0) {
      const added = await quarantineRows(db, sink.name, setAside);
      metrics.recordsQuarantined.inc({ sink: sink.name }, added);
      log.warn({
        sink: sink.name, rows: setAside.length,
        examples: setAside.slice(0, 10).map(({ row, reason }) => ({ rowId: row.id, deviceId: row.deviceId, organizationId: row.organizationId, seq: row.seq, reason })),
      }, 'rows quarantined: the store cannot write them');
    }
    const done = new Set<IngestRow>(stored);
    for (const { row } of setAside) done.add(row);
    const delay = backoffMs();
    for (const { msg, rows } of deliveries) {
      if (rows.every((row) => done.has(row))) msg.ack();
      else msg.nak(delay);
    }
  }

  /** Decodes a message for the buffer; one that is not ours is terminated, since no store can take it and nobody can say whose it is. */
  function receive(msg: JsMsg): Delivery | null {
    try {
      return { msg, rows: decodeMessage(msg.seq, msg.string()) };
    } catch (error) {
      log.warn({ sink: sink.name, streamSeq: msg.seq, subject: msg.subject, err: error }, 'dropped a message that is not an ingest record');
      msg.term('not an ingest record');
      return null;
    }
  }

  async function loop() {
    while (!controller.signal.aborted) {
      try {
        const consumer = await js.consumers.get(options.stream, consumerName(sink.name));
        messages = await consumer.consume({ max_messages: Math.max(1, Math.ceil(options.batchRows / MESSAGES_PER_PULL_SHARE)), expires: PULL_EXPIRES_MS });
        for await (const msg of messages) {
          const delivery = receive(msg);
          if (!delivery) continue;
          buffer.push(delivery);
          bufferedRows += delivery.rows.length;
          if (bufferedRows >= options.batchRows) await flush();
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
