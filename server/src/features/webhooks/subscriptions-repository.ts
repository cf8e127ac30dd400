import type { WebhookEventType } from '@ninjait/shared';
import type { SqlExecutor } from '../../stores/relational/index.ts';
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

const COLUMNS = `s.id, s.organization_id AS "organizationId", s.name, s.url, s.event_types AS "eventTypes", s.enabled,
  s.consecutive_failures AS "consecutiveFailures", s.last_success_at AS "lastSuccessAt", s.last_error AS "lastError",
  s.last_error_at AS "lastErrorAt", s.created_at AS "createdAt",
  (SELECT count(*)::int FROM notification_outbox o WHERE o.subscription_id = s.id AND o.state = 'pending') AS pending`;

export interface NewSubscription { name: string; url: string; eventTypes: readonly WebhookEventType[]; enabled: boolean; signingSecret: string; createdBy: string | null }

export async function createSubscription(db: SqlExecutor, organizationId: string, input: NewSubscription): Promise<Subscription> {
  try {
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO webhook_subscriptions (organization_id, name, url, event_types, enabled, signing_secret, created_by)
       VALUES ($1, $2, $3, $4::text[], $5, $6, $7) RETURNING id`,
      [organizationId, input.name, input.url, [...new Set(input.eventTypes)], input.enabled, input.signingSecret, input.createdBy],
    );
    return getSubscription(db, organizationId, rows[0]!.id);
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError('CONFLICT', `A webhook named "${input.name}" already exists`);
    throw error;
  }
}

export async function getSubscription(db: SqlExecutor, organizationId: string, id: string): Promise<Subscription> {
  const { rows } = await db.query<Subscription>(`SELECT ${COLUMNS} FROM webhook_subscriptions s WHERE s.id = $1 AND s.organization_id = $2`, [id, organizationId]);
  if (!rows[0]) throw notFound('Webhook');
  return rows[0];
}

/** By id or by name (the CLI names them). */
export async function findSubscription(db: SqlExecutor, organizationId: string, ref: string): Promise<Subscription> {
  const { rows } = await db.query<Subscription>(
    `SELECT ${COLUMNS} FROM webhook_subscriptions s WHERE s.organization_id = $1 AND (s.id::text = $2 OR s.name = $2) LIMIT 1`, [organizationId, ref]);
  if (!rows[0]) throw notFound(`Webhook "${ref}"`);
  return rows[0];
}

export async function listSubscriptions(db: SqlExecutor, organizationId: string): Promise<Subscription[]> {
  const { rows } = await db.query<Subscription>(`SELECT ${COLUMNS} FROM webhook_subscriptions s WHERE s.organization_id = $1 ORDER BY s.name`, [organizationId]);
  return rows;
}

export async function updateSubscription(db: SqlExecutor, organizationId: string, id: string, changes: { enabled?: boolean | undefined; eventTypes?: readonly WebhookEventType[] | undefined }): Promise<Subscription> {
  const { rowCount } = await db.query(
    `UPDATE webhook_subscriptions SET enabled = COALESCE($3, enabled), event_types = COALESCE($4::text[], event_types)
     WHERE id = $1 AND organization_id = $2`,
    [id, organizationId, changes.enabled ?? null, changes.eventTypes ? [...new Set(changes.eventTypes)] : null]);
  if (rowCount === 0) throw notFound('Webhook');
  return getSubscription(db, organizationId, id);
}

/** Deletes a subscription; its waiting events and its log go with it. */
export async function deleteSubscription(db: SqlExecutor, organizationId: string, id: string): Promise<void> {
  const { rowCount } = await db.query('DELETE FROM webhook_subscriptions WHERE id = $1 AND organization_id = $2', [id, organizationId]);
  if (rowCount === 0) throw notFound('Webhook');
}

/** What the dispatcher needs to send: the URL and the secret. */
export async function subscriptionsForSending(db: SqlExecutor, ids: readonly string[]): Promise<Destination[]> {
  const { rows } = await db.query<Destination>(
    `SELECT id, organization_id AS "organizationId", name, 'webhook' AS format, url AS target, signing_secret AS "signingSecret", NULL::timestamptz AS "lastDigestAt"
     FROM webhook_subscriptions WHERE id = ANY($1::uuid[])`, [ids]);
  return rows;
}

export async function recordSubscriptionOutcome(db: SqlExecutor, id: string, outcome: { ok: boolean; error: string | null }): Promise<void> {
  await db.query(
    outcome.ok
      ? 'UPDATE webhook_subscriptions SET consecutive_failures = 0, last_success_at = NOW() WHERE id = $1'
      : 'UPDATE webhook_subscriptions SET consecutive_failures = consecutive_failures + 1, last_error = $2, last_error_at = NOW() WHERE id = $1',
    outcome.ok ? [id] : [id, outcome.error ?? 'failed']);
}

/**
 * One outbox row per enabled subscription of the organization that wants this type, in the
 * caller's transaction. The key (event and subscription) makes a second publish a no-op.
 */
export async function enqueueEvent(tx: SqlExecutor, event: { id: string; type: WebhookEventType; organizationId: string }, payload: unknown): Promise<void> {
  await tx.query(
    `INSERT INTO notification_outbox (subscription_id, organization_id, idempotency_key, event_id, event_type, payload)
     SELECT s.id, s.organization_id, 'event:' || $3::text || ':' || s.id, $3::uuid, $2::text, $4::jsonb
     FROM webhook_subscriptions s WHERE s.organization_id = $1 AND s.enabled AND $2::text = ANY(s.event_types)
     ON CONFLICT (idempotency_key) DO NOTHING`,
    [event.organizationId, event.type, event.id, JSON.stringify(payload)]);
}

/**
 * A new delivery of an event this subscription was sent before: a new outbox row (its own
 * attempts and log lines) with the same event id and payload. Returns its row id.
 */
export async function enqueueResend(db: SqlExecutor, organizationId: string, subscriptionId: string, eventId: string, resendKey: string): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO notification_outbox (subscription_id, organization_id, idempotency_key, event_id, event_type, payload)
     SELECT subscription_id, organization_id, $4, event_id, event_type, payload FROM notification_outbox
     WHERE subscription_id = $1 AND organization_id = $2 AND event_id = $3::uuid ORDER BY id LIMIT 1
     RETURNING id::int`,
    [subscriptionId, organizationId, eventId, resendKey]);
  if (!rows[0]) throw notFound('Event for this webhook');
  return rows[0].id;
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
  const { rows } = await db.query<EventDelivery>(
    `SELECT d.id::int, d.outbox_id::int AS "outboxId", o.event_id AS "eventId", o.event_type AS "eventType", o.state, d.attempt, d.ok,
       d.status_code AS "statusCode", d.error, d.duration_ms AS "durationMs", d.created_at AS "createdAt"
     FROM notification_deliveries d LEFT JOIN notification_outbox o ON o.id = d.outbox_id
     WHERE d.subscription_id = $1 AND d.organization_id = $2 ORDER BY d.id DESC LIMIT $3`,
    [subscriptionId, organizationId, limit]);
  return rows;
}
