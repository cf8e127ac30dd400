import type { WebhookEventType } from '@ninjait/shared';
import { sql } from 'kysely';
import { anyUuid, compileOnce, textArray, typed, type SqlExecutor } from '../../stores/relational/index.ts';
import { AppError, isUniqueViolation, notFound } from '../../platform/errors.ts';
import type { Destination } from './delivery/index.ts';

/** A subscription as people see it: its state, never its signing secret. */
export interface Subscription {
  id: string;
  organizationId: string;
  name: string;
  url: string;
  eventTypes: WebhookEventType[];
  enabled: boolean;
  consecutiveFailures: number;
  lastSuccessAt: Date | null;
  lastError: string | null;
  lastErrorAt: Date | null;
  /** Events waiting to leave (retries included). */
  pending: number;
  createdAt: Date;
}

/** Subscriptions with their count of waiting events, as `s`; the caller adds the filters. */
function selectSubscriptions(db: SqlExecutor) {
  return typed(db).selectFrom('webhookSubscriptions as s')
    .select((eb) => [
      's.id', 's.organizationId', 's.name', 's.url', 's.eventTypes', 's.enabled', 's.consecutiveFailures', 's.lastSuccessAt', 's.lastError',
      's.lastErrorAt', 's.createdAt',
      eb.selectFrom('notificationOutbox as o').select((inner) => inner.cast<number>(inner.fn.countAll(), 'integer').as('n'))
        .whereRef('o.subscriptionId', '=', 's.id').where('o.state', '=', sql.lit('pending')).$asScalar().$notNull().as('pending'),
    ])
    .$narrowType<{ eventTypes: WebhookEventType[] }>();
}

export interface NewSubscription { name: string; url: string; eventTypes: readonly WebhookEventType[]; enabled: boolean; signingSecret: string; createdBy: string | null }

export async function createSubscription(db: SqlExecutor, organizationId: string, input: NewSubscription): Promise<Subscription> {
  try {
    const { id } = await typed(db).insertInto('webhookSubscriptions')
      .values({
        organizationId, name: input.name, url: input.url, eventTypes: textArray([...new Set(input.eventTypes)]), enabled: input.enabled,
        signingSecret: input.signingSecret, createdBy: input.createdBy,
      })
      .returning('id').executeTakeFirstOrThrow();
    return getSubscription(db, organizationId, id);
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError('CONFLICT', `A webhook named "${input.name}" already exists`);
    throw error;
  }
}

export async function getSubscription(db: SqlExecutor, organizationId: string, id: string): Promise<Subscription> {
  const row = await selectSubscriptions(db).where('s.id', '=', id).where('s.organizationId', '=', organizationId).executeTakeFirst();
  if (!row) throw notFound('Webhook');
  return row;
}

/** By id or by name (the CLI names them). */
export async function findSubscription(db: SqlExecutor, organizationId: string, ref: string): Promise<Subscription> {
  const row = await selectSubscriptions(db).where('s.organizationId', '=', organizationId)
    .where((eb) => eb.or([eb(sql<string>`${eb.ref('s.id')}::text`, '=', ref), eb('s.name', '=', ref)]))
    .limit(1).executeTakeFirst();
  if (!row) throw notFound(`Webhook "${ref}"`);
  return row;
}

export async function listSubscriptions(db: SqlExecutor, organizationId: string): Promise<Subscription[]> {
  return selectSubscriptions(db).where('s.organizationId', '=', organizationId).orderBy('s.name').execute();
}

export async function updateSubscription(db: SqlExecutor, organizationId: string, id: string, changes: { enabled?: boolean | undefined; eventTypes?: readonly WebhookEventType[] | undefined }): Promise<Subscription> {
  const { enabled, eventTypes } = changes;
  const result = await typed(db).updateTable('webhookSubscriptions')
    // Only the fields given change; with none, the row is set to itself (so a missing one is still not found).
    .set((eb) => ({
      enabled: enabled ?? eb.ref('enabled'),
      eventTypes: eventTypes ? textArray([...new Set(eventTypes)]) : eb.ref('eventTypes'),
    }))
    .where('id', '=', id).where('organizationId', '=', organizationId)
    .executeTakeFirst();
  if (result.numUpdatedRows === 0n) throw notFound('Webhook');
  return getSubscription(db, organizationId, id);
}

/** Deletes a subscription; its waiting events and its log go with it. */
export async function deleteSubscription(db: SqlExecutor, organizationId: string, id: string): Promise<void> {
  const result = await typed(db).deleteFrom('webhookSubscriptions').where('id', '=', id).where('organizationId', '=', organizationId).executeTakeFirst();
  if (result.numDeletedRows === 0n) throw notFound('Webhook');
}

/** What the dispatcher needs to send: the URL and the secret. */
export async function subscriptionsForSending(db: SqlExecutor, ids: readonly string[]): Promise<Destination[]> {
  return typed(db).selectFrom('webhookSubscriptions')
    .select(['id', 'organizationId', 'name', sql.lit('webhook').as('format'), 'url as target', 'signingSecret', sql<Date | null>`NULL::timestamptz`.as('lastDigestAt')])
    .where('id', '=', anyUuid(ids))
    .$narrowType<{ format: Destination['format'] }>()
    .execute();
}

export async function recordSubscriptionOutcome(db: SqlExecutor, id: string, outcome: { ok: boolean; error: string | null }): Promise<void> {
  await typed(db).updateTable('webhookSubscriptions')
    .set((eb) => outcome.ok
      ? { consecutiveFailures: sql.lit(0), lastSuccessAt: sql<Date>`NOW()` }
      : { consecutiveFailures: eb('consecutiveFailures', '+', sql.lit(1)), lastError: outcome.error ?? 'failed', lastErrorAt: sql<Date>`NOW()` })
    .where('id', '=', id)
    .execute();
}

// Compiled once: the ingest path publishes an event for every device that comes online, thousands
// after an outage, and a group of enrollments one per new device.
const EVENTS = '\u0000events';
const ENQUEUE_EVENTS = compileOnce((db) => db.insertInto('notificationOutbox').columns(['subscriptionId', 'organizationId', 'idempotencyKey', 'eventId', 'eventType', 'payload'])
  .expression(db.selectFrom(sql<{ id: string; type: string; organization_id: string; payload: unknown }>`jsonb_to_recordset(${EVENTS}::jsonb)`
    .as<'e'>(sql`e(id uuid, type text, organization_id uuid, payload jsonb)`))
    .innerJoin('webhookSubscriptions as s', (join) => join.onRef('s.organizationId', '=', 'e.organization_id' as never))
    .select((eb) => [
      's.id', 's.organizationId', sql<string>`'event:' || ${eb.ref('e.id')}::text || ':' || ${eb.ref('s.id')}`.as('idempotencyKey'),
      'e.id as eventId', 'e.type as eventType', 'e.payload',
    ])
    .where((eb) => eb.ref('s.enabled'))
    .where((eb) => sql<boolean>`${eb.ref('e.type')} = ANY(${eb.ref('s.eventTypes')})`))
  .onConflict((conflict) => conflict.column('idempotencyKey').doNothing()), [EVENTS]);

/**
 * Per event, one outbox row per enabled subscription of its organization that wants its type, in
 * the caller's transaction, all in one statement; each event's body is its payload. The key
 * (event and subscription) makes a second publish a no-op.
 */
export async function enqueueEvents(tx: SqlExecutor, events: readonly { id: string; type: WebhookEventType; organizationId: string }[]): Promise<void> {
  const rows = events.map((event) => ({ id: event.id, type: event.type, organization_id: event.organizationId, payload: event }));
  await tx.query(ENQUEUE_EVENTS, [JSON.stringify(rows)]);
}

/**
 * A new delivery of an event this subscription was sent before: a new outbox row (its own
 * attempts and log lines) with the same event id and payload. Returns its row id.
 */
export async function enqueueResend(db: SqlExecutor, organizationId: string, subscriptionId: string, eventId: string, resendKey: string): Promise<number> {
  const typedDb = typed(db);
  const row = await typedDb.insertInto('notificationOutbox').columns(['subscriptionId', 'organizationId', 'idempotencyKey', 'eventId', 'eventType', 'payload'])
    .expression(typedDb.selectFrom('notificationOutbox')
      .select(['subscriptionId', 'organizationId', sql<string>`${resendKey}`.as('idempotencyKey'), 'eventId', 'eventType', 'payload'])
      .where('subscriptionId', '=', subscriptionId).where('organizationId', '=', organizationId).where('eventId', '=', sql<string>`${eventId}::uuid`)
      .orderBy('id').limit(1))
    .returning('id')
    .executeTakeFirst();
  if (!row) throw notFound('Event for this webhook');
  return row.id;
}

export interface EventDelivery {
  id: number;
  outboxId: number;
  eventId: string | null;
  eventType: string | null;
  /** pending (will retry), sent or failed (gave up); null for a test message. */
  state: string | null;
  attempt: number;
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  createdAt: Date;
}

/** The subscription's latest delivery attempts, newest first, with the event each carried. */
export async function listSubscriptionDeliveries(db: SqlExecutor, organizationId: string, subscriptionId: string, limit: number): Promise<EventDelivery[]> {
  await getSubscription(db, organizationId, subscriptionId);
  return typed(db).selectFrom('notificationDeliveries as d').leftJoin('notificationOutbox as o', 'o.id', 'd.outboxId')
    .select(['d.id', 'd.outboxId', 'o.eventId', 'o.eventType', 'o.state', 'd.attempt', 'd.ok', 'd.statusCode', 'd.error', 'd.durationMs', 'd.createdAt'])
    .where('d.subscriptionId', '=', subscriptionId).where('d.organizationId', '=', organizationId)
    .orderBy('d.id', 'desc').limit(limit)
    .execute();
}
