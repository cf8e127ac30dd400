import type { SqlExecutor } from '../../../stores/relational/index.ts';
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

const DESTINATION = 'COALESCE(channel_id, subscription_id)';
const ROW = `id::int, CASE WHEN channel_id IS NULL THEN 'subscription' ELSE 'channel' END AS destination,
  ${DESTINATION} AS "destinationId", organization_id AS "organizationId", idempotency_key AS "idempotencyKey",
  event_id AS "eventId", payload, attempts`;
const DUE = `state = 'pending' AND next_attempt_at <= NOW() AND (lease_until IS NULL OR lease_until < NOW())`;

/**
 * Takes due rows for this instance for `leaseMs`; another instance takes them over only after the
 * lease ran out. Destinations already being served by this instance are left alone, so a slow
 * one holds up only itself.
 */
export async function claimDue(db: SqlExecutor, owner: string, leaseMs: number, busy: readonly string[], limit: number): Promise<OutboxRow[]> {
  const { rows } = await db.query<OutboxRow>(
    `UPDATE notification_outbox SET lease_owner = $1, lease_until = NOW() + make_interval(secs => $2 / 1000.0), attempts = attempts + 1
     WHERE id IN (SELECT id FROM notification_outbox WHERE ${DUE} AND NOT (${DESTINATION} = ANY($3::uuid[]))
                  ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED)
     RETURNING ${ROW}`,
    [owner, leaseMs, busy, limit],
  );
  return rows.sort((a, b) => a.id - b.id);
}

/** Everything else due for one destination, for a digest (bounded). */
export async function claimRestOf(db: SqlExecutor, owner: string, leaseMs: number, destinationId: string, limit: number): Promise<OutboxRow[]> {
  const { rows } = await db.query<OutboxRow>(
    `UPDATE notification_outbox SET lease_owner = $1, lease_until = NOW() + make_interval(secs => $2 / 1000.0), attempts = attempts + 1
     WHERE id IN (SELECT id FROM notification_outbox WHERE ${DUE} AND ${DESTINATION} = $3 ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED)
     RETURNING ${ROW}`,
    [owner, leaseMs, destinationId, limit],
  );
  return rows;
}

/** Marks rows sent, only while this instance still holds them; returns how many it held. */
export async function markSent(db: SqlExecutor, ids: readonly number[], owner: string, digestId: number | null): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE notification_outbox SET state = 'sent', sent_at = NOW(), lease_owner = NULL, lease_until = NULL, digest_id = $3, last_error = NULL
     WHERE id = ANY($1::bigint[]) AND lease_owner = $2`, [ids, owner, digestId]);
  return rowCount;
}

/** A failed attempt: back off exponentially, or give up (refused for good, or too many attempts). */
export async function markFailed(db: SqlExecutor, ids: readonly number[], owner: string, error: string, retryable: boolean, options: { baseBackoffMs: number; maxBackoffMs: number; maxAttempts: number }): Promise<void> {
  await db.query(
    `UPDATE notification_outbox SET lease_owner = NULL, lease_until = NULL, last_error = $3,
       state = CASE WHEN NOT $4 OR attempts >= $7 THEN 'failed' ELSE 'pending' END,
       next_attempt_at = NOW() + make_interval(secs => LEAST($6, $5 * power(2, GREATEST(attempts - 1, 0))) / 1000.0)
     WHERE id = ANY($1::bigint[]) AND lease_owner = $2`,
    [ids, owner, error.slice(0, 2_000), retryable, options.baseBackoffMs, options.maxBackoffMs, options.maxAttempts]);
}

/** Gives rows back without counting an attempt: they wait until `until` (a digest window). */
export async function defer(db: SqlExecutor, ids: readonly number[], owner: string, until: Date): Promise<void> {
  await db.query(
    `UPDATE notification_outbox SET lease_owner = NULL, lease_until = NULL, attempts = attempts - 1, next_attempt_at = $3
     WHERE id = ANY($1::bigint[]) AND lease_owner = $2`, [ids, owner, until]);
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
  await db.query(
    `INSERT INTO notification_deliveries (outbox_id, channel_id, subscription_id, organization_id, attempt, ok, status_code, error, messages, duration_ms)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [record.outboxId, channelId, subscriptionId, record.organizationId, record.attempt, record.ok, record.statusCode, error, record.messages, record.durationMs]);
  await source.recordOutcome(db, record.destinationId, { ok: record.ok, error, digest });
}

/** Sent and failed rows older than the retention are deleted; deliveries too. */
export async function trimOutbox(db: SqlExecutor, retentionDays: number): Promise<void> {
  await db.query(`DELETE FROM notification_outbox WHERE state <> 'pending' AND created_at < NOW() - make_interval(days => $1)`, [retentionDays]);
  await db.query('DELETE FROM notification_deliveries WHERE created_at < NOW() - make_interval(days => $1)', [retentionDays]);
}
