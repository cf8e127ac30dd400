import type { RelationalStore, SqlExecutor } from '../../../stores/relational/index.ts';
import type { Logger } from '../../../platform/obs/logger.ts';
import { every, type Periodic } from '../../../platform/scheduler/every.ts';
import { claimDue, claimRestOf, defer, markFailed, markSent, recordDelivery, type OutboxRow } from './outbox-repository.ts';
import { send, type DeliveryIds, type SendResult, type TransportOptions } from './transports.ts';
import type { Destination, DestinationKind, DestinationSource, Message } from './types.ts';

export interface DispatcherOptions {
  db: RelationalStore;
  log: Logger;
  instanceId: string;
  transport: TransportOptions;
  /** Every kind of destination the outbox holds rows for (alert channels, event webhooks). */
  sources: readonly DestinationSource[];
  pollMs?: number | undefined;
  /** How long a claim lasts: longer than the sends of one destination's claim take. */
  leaseMs?: number | undefined;
  baseBackoffMs?: number | undefined;
  maxBackoffMs?: number | undefined;
  maxAttempts?: number | undefined;
  /** More due rows than this for one destination that digests go out as one digest. */
  digestAfter?: number | undefined;
  /** At most one digest per destination in this window; the rest wait for its end. */
  digestWindowMs?: number | undefined;
}

const DEFAULTS = {
  pollMs: 500, leaseMs: 60_000, baseBackoffMs: 5_000, maxBackoffMs: 3_600_000, maxAttempts: 12, digestAfter: 3, digestWindowMs: 60_000,
};
const CLAIM_ROWS = 200;
const DIGEST_MAX_ROWS = 100_000;

export interface Dispatcher extends Periodic {
  /** Sends what is due now and waits for it (tests, shutdown). */
  flush(): Promise<void>;
}

/**
 * Sends the outbox, for alert channels and event webhooks alike: claims due rows under a lease,
 * serves each destination on its own (one that hangs or fails never delays another), retries
 * with exponential backoff, logs every attempt, and folds a burst for a destination that digests
 * into one message per window. A row is marked sent only by the instance still holding it; a
 * crash mid-send leaves it to be sent again once its lease ends, with the same
 * `X-NinjaIT-Delivery` key (and event id) so a receiver can drop the repeat.
 */
export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const settings = { ...DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as typeof DEFAULTS & DispatcherOptions;
  const { db, log, instanceId: owner } = options;
  const sources = new Map(options.sources.map((source) => [source.kind, source]));
  const busy = new Map<string, Promise<void>>();

  async function tick() {
    const rows = await claimDue(db, owner, settings.leaseMs, [...busy.keys()], CLAIM_ROWS);
    if (rows.length === 0) return;
    const byDestination = new Map<string, OutboxRow[]>();
    for (const row of rows) byDestination.set(row.destinationId, [...(byDestination.get(row.destinationId) ?? []), row]);
    const destinations = await loadDestinations(rows);
    for (const [destinationId, claimed] of byDestination) {
      const destination = destinations.get(destinationId);
      const source = sources.get(claimed[0]!.destination);
      if (!destination || !source) continue; // deleted meanwhile: its rows went with it
      const task = serve(source, destination, claimed)
        .catch((error: unknown) => log.warn({ err: error, destination: destination.name }, 'outbox delivery step failed; will retry'))
        .finally(() => busy.delete(destinationId));
      busy.set(destinationId, task);
    }
  }

  async function loadDestinations(rows: readonly OutboxRow[]): Promise<Map<string, Destination>> {
    const idsByKind = new Map<DestinationKind, Set<string>>();
    for (const row of rows) idsByKind.set(row.destination, (idsByKind.get(row.destination) ?? new Set()).add(row.destinationId));
    const loaded = await Promise.all([...idsByKind].map(([kind, ids]) => sources.get(kind)?.load(db, [...ids]) ?? []));
    return new Map(loaded.flat().map((destination) => [destination.id, destination]));
  }

  async function serve(source: DestinationSource, destination: Destination, claimed: OutboxRow[]) {
    if (!source.digest || claimed.length <= settings.digestAfter) {
      for (const row of claimed) await deliver(source, destination, [row], source.message(row.payload), { key: row.idempotencyKey, eventId: row.eventId, eventType: eventTypeOf(row.payload) }, false);
      return;
    }
    const rows = [...claimed, ...(await claimRestOf(db, owner, settings.leaseMs, destination.id, DIGEST_MAX_ROWS))];
    const windowEnds = destination.lastDigestAt ? new Date(destination.lastDigestAt).getTime() + settings.digestWindowMs : 0;
    if (windowEnds > Date.now()) {
      await defer(db, rows.map((row) => row.id), owner, new Date(windowEnds));
      return;
    }
    const message = source.digest(destination.organizationId, rows.map((row) => row.payload));
    await deliver(source, destination, rows, message, { key: `digest:${rows[0]!.id}-${rows.at(-1)!.id}` }, true);
  }

  async function deliver(source: DestinationSource, destination: Destination, rows: OutboxRow[], message: Message, ids: DeliveryIds, digest: boolean) {
    const result = await sendAndRecord(db, source, destination, message, ids, settings.transport, {
      outboxId: rows[0]!.id, attempt: Math.max(...rows.map((row) => row.attempts)), messages: rows.length, digest,
    });
    const outboxIds = rows.map((row) => row.id);
    if (result.ok) {
      const held = await markSent(db, outboxIds, owner, digest ? outboxIds[0]! : null);
      if (held < outboxIds.length) log.warn({ destination: destination.name, sent: outboxIds.length, held }, 'sent outbox rows whose lease had run out');
      return;
    }
    log.warn({ destination: destination.name, format: destination.format, error: result.error, retryable: result.retryable }, 'outbox message not delivered');
    await markFailed(db, outboxIds, owner, result.error, result.retryable, settings);
  }

  const periodic = every(settings.pollMs, 'outbox-dispatcher', log, tick);
  return {
    async flush() {
      await tick();
      await Promise.all(busy.values());
    },
    async stop() {
      await periodic.stop();
      await Promise.all(busy.values());
    },
  };
}

/** Our own payloads carry their event type at the top (`type` for events, `event` for alert notifications). */
function eventTypeOf(payload: unknown): string | null {
  if (typeof payload !== 'object' || payload === null) return null;
  const { type } = payload as { type?: unknown };
  return typeof type === 'string' ? type : null;
}

/**
 * Sends one message and logs the attempt in the delivery log: the dispatcher's path, and the
 * "send test" of channels and subscriptions (outbox id 0: a test is never retried).
 */
export async function sendAndRecord(
  db: SqlExecutor, source: DestinationSource, destination: Destination, message: Message, ids: DeliveryIds, transport: TransportOptions,
  attempt: { outboxId: number; attempt: number; messages: number; digest: boolean },
): Promise<SendResult> {
  const started = performance.now();
  const result = await send(destination, message, ids, transport);
  await recordDelivery(db, source, {
    outboxId: attempt.outboxId, destinationId: destination.id, organizationId: destination.organizationId, attempt: attempt.attempt,
    ok: result.ok, statusCode: result.statusCode ?? null, error: result.ok ? null : result.error, messages: attempt.messages,
    durationMs: Math.round(performance.now() - started),
  }, attempt.digest);
  return result;
}
