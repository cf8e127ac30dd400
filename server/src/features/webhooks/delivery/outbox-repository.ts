import { sql } from 'kysely';
import { anyBigint, anyUuid, msFromNow, typed, type SqlExecutor } from '../../../stores/relational/index.ts';
import type { DestinationKind, DestinationSource } from './types.ts';

export interface OutboxRow {
  id: number;
  destination: DestinationKind;
  destinationId: string;
  organizationId: string;
  idempotencyKey: string;
  /** The event's id (event webhooks): the same on every attempt and on a resend. */
  eventId: string | null;
  payload: unknown;
  attempts: number;
}

/** Which destinations a claim takes: all but those this instance is serving, or one. */
type DestinationFilter = { except: readonly string[] } | { only: string };

/**
 * Leases due rows (pending, their time come, no live lease) for `leaseMs` and counts the attempt:
 * one statement, the rows picked in id order with FOR UPDATE SKIP LOCKED so instances never wait
 * on each other's rows.
 */
async function claim(db: SqlExecutor, owner: string, leaseMs: number, destinations: DestinationFilter, limit: number): Promise<OutboxRow[]> {
  return typed(db).updateTable('notificationOutbox')
    .set((eb) => ({ leaseOwner: owner, leaseUntil: msFromNow(leaseMs), attempts: eb('attempts', '+', sql.lit(1)) }))
    .where('id', 'in', (eb) => eb.selectFrom('notificationOutbox').select('id')
      .where('state', '=', sql.lit('pending')).where('nextAttemptAt', '<=', sql<Date>`NOW()`)
      .where((inner) => inner.or([inner('leaseUntil', 'is', null), inner('leaseUntil', '<', sql<Date>`NOW()`)]))
      .where((inner) => 'only' in destinations
        ? inner(inner.fn.coalesce('channelId', 'subscriptionId'), '=', destinations.only)
        : inner.not(inner(inner.fn.coalesce('channelId', 'subscriptionId'), '=', anyUuid(destinations.except))))
      .orderBy('id').limit(limit).forUpdate().skipLocked())
    .returning((eb) => [
      'id', eb.case().when('channelId', 'is', null).then(sql.lit('subscription')).else(sql.lit('channel')).end().as('destination'),
      eb.fn.coalesce('channelId', 'subscriptionId').as('destinationId'), 'organizationId', 'idempotencyKey', 'eventId', 'payload', 'attempts',
    ])
    .$narrowType<{ destination: DestinationKind; destinationId: string }>()
    .execute();
}

/**
 * Takes due rows for this instance for `leaseMs`; another instance takes them over only after the
 * lease ran out. Destinations already being served by this instance are left alone, so a slow
 * one holds up only itself.
 */
export async function claimDue(db: SqlExecutor, owner: string, leaseMs: number, busy: readonly string[], limit: number): Promise<OutboxRow[]> {
  const rows = await claim(db, owner, leaseMs, { except: busy }, limit);
  return rows.sort((a, b) => a.id - b.id);
}

/** Everything else due for one destination, for a digest (bounded). */
export async function claimRestOf(db: SqlExecutor, owner: string, leaseMs: number, destinationId: string, limit: number): Promise<OutboxRow[]> {
  return claim(db, owner, leaseMs, { only: destinationId }, limit);
}

/** Marks rows sent, only while this instance still holds them; returns how many it held. */
export async function markSent(db: SqlExecutor, ids: readonly number[], owner: string, digestId: number | null): Promise<number> {
  const result = await typed(db).updateTable('notificationOutbox')
    .set({ state: sql.lit('sent'), sentAt: sql<Date>`NOW()`, leaseOwner: null, leaseUntil: null, digestId, lastError: null })
    .where('id', '=', anyBigint(ids)).where('leaseOwner', '=', owner)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** A failed attempt: back off exponentially, or give up (refused for good, or too many attempts). */
export async function markFailed(db: SqlExecutor, ids: readonly number[], owner: string, error: string, retryable: boolean, options: { baseBackoffMs: number; maxBackoffMs: number; maxAttempts: number }): Promise<void> {
  await typed(db).updateTable('notificationOutbox')
    .set((eb) => ({
      leaseOwner: null, leaseUntil: null, lastError: error.slice(0, 2_000),
      state: retryable ? eb.case().when('attempts', '>=', options.maxAttempts).then(sql.lit('failed')).else(sql.lit('pending')).end() : sql.lit('failed'),
      nextAttemptAt: sql<Date>`NOW() + make_interval(secs => LEAST(${options.maxBackoffMs}, ${options.baseBackoffMs} * power(2, GREATEST(${eb.ref('attempts')} - 1, 0))) / 1000.0)`,
    }))
    .where('id', '=', anyBigint(ids)).where('leaseOwner', '=', owner)
    .execute();
}

/** Gives rows back without counting an attempt: they wait until `until` (a digest window). */
export async function defer(db: SqlExecutor, ids: readonly number[], owner: string, until: Date): Promise<void> {
  await typed(db).updateTable('notificationOutbox')
    .set((eb) => ({ leaseOwner: null, leaseUntil: null, attempts: eb('attempts', '-', sql.lit(1)), nextAttemptAt: until }))
    .where('id', '=', anyBigint(ids)).where('leaseOwner', '=', owner)
    .execute();
}

export interface DeliveryRecord {
  /** The outbox row (the first of a digest); 0 for a test message, which has none. */
  outboxId: number;
  destinationId: string;
  organizationId: string;
  attempt: number;
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  messages: number;
  durationMs: number;
}

/** One delivery attempt in the log, and the destination's health for admins. */
export async function recordDelivery(db: SqlExecutor, source: DestinationSource, record: DeliveryRecord, digest: boolean): Promise<void> {
  const error = record.error?.slice(0, 2_000) ?? null;
  const [channelId, subscriptionId] = source.kind === 'channel' ? [record.destinationId, null] : [null, record.destinationId];
  await typed(db).insertInto('notificationDeliveries')
    .values({
      outboxId: record.outboxId, channelId, subscriptionId, organizationId: record.organizationId, attempt: record.attempt, ok: record.ok,
      statusCode: record.statusCode, error, messages: record.messages, durationMs: record.durationMs,
    })
    .execute();
  await source.recordOutcome(db, record.destinationId, { ok: record.ok, error, digest });
}

/** Sent and failed rows older than the retention are deleted; deliveries too. */
export async function trimOutbox(db: SqlExecutor, retentionDays: number): Promise<void> {
  const cutoff = sql<Date>`NOW() - make_interval(days => ${retentionDays})`;
  await typed(db).deleteFrom('notificationOutbox').where('state', '<>', sql.lit('pending')).where('createdAt', '<', cutoff).execute();
  await typed(db).deleteFrom('notificationDeliveries').where('createdAt', '<', cutoff).execute();
}
