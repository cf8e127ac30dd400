import type { SqlExecutor } from '../../stores/relational/index.ts';
import { AppError, isUniqueViolation, notFound } from '../../platform/errors.ts';
import type { Severity } from './conditions.ts';

export const CHANNEL_KINDS = ['email', 'webhook', 'slack', 'teams'] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

/** A channel as admins see it: its state, never its signing secret. */
export interface Channel {
  id: string;
  organizationId: string;
  name: string;
  kind: ChannelKind;
  /** The URL (webhook, Slack, Teams) or the address (email). */
  target: string;
  minSeverity: Severity;
  consecutiveFailures: number;
  lastSuccessAt: Date | null;
  lastError: string | null;
  lastErrorAt: Date | null;
  /** Notifications waiting to leave (retries included). */
  pending: number;
  createdAt: Date;
}

/** What the dispatcher needs to send: the channel and its secret. */
export interface ChannelForSending { id: string; organizationId: string; name: string; kind: ChannelKind; target: string; signingSecret: string | null; lastDigestAt: Date | null }

const CHANNEL_COLUMNS = `c.id, c.organization_id AS "organizationId", c.name, c.kind, c.target, c.min_severity AS "minSeverity",
  c.consecutive_failures AS "consecutiveFailures", c.last_success_at AS "lastSuccessAt", c.last_error AS "lastError",
  c.last_error_at AS "lastErrorAt", c.created_at AS "createdAt",
  (SELECT count(*)::int FROM notification_outbox o WHERE o.channel_id = c.id AND o.state = 'pending') AS pending`;

export interface ChannelInput { name: string; kind: ChannelKind; target: string; minSeverity: Severity; signingSecret: string | null }

export async function createChannel(db: SqlExecutor, organizationId: string, input: ChannelInput): Promise<Channel> {
  try {
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO notification_channels (organization_id, name, kind, target, min_severity, signing_secret)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
      [organizationId, input.name, input.kind, input.target, input.minSeverity, input.signingSecret],
    );
    return getChannel(db, organizationId, rows[0]!.id);
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError('CONFLICT', `A channel named "${input.name}" already exists`);
    throw error;
  }
}

export async function getChannel(db: SqlExecutor, organizationId: string, id: string): Promise<Channel> {
  const { rows } = await db.query<Channel>(`SELECT ${CHANNEL_COLUMNS} FROM notification_channels c WHERE c.id = $1 AND c.organization_id = $2`, [id, organizationId]);
  if (!rows[0]) throw notFound('Channel');
  return rows[0];
}

/** Channel ids by id or name (the CLI names them); an unknown one is not found. */
export async function channelIdsByRef(db: SqlExecutor, organizationId: string, refs: readonly string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const ref of refs) {
    const { rows } = await db.query<{ id: string }>(
      'SELECT id FROM notification_channels WHERE organization_id = $1 AND (id::text = $2 OR name = $2) LIMIT 1', [organizationId, ref]);
    if (!rows[0]) throw notFound(`Channel "${ref}"`);
    ids.push(rows[0].id);
  }
  return ids;
}

export async function listChannels(db: SqlExecutor, organizationId: string): Promise<Channel[]> {
  const { rows } = await db.query<Channel>(`SELECT ${CHANNEL_COLUMNS} FROM notification_channels c WHERE c.organization_id = $1 ORDER BY c.name`, [organizationId]);
  return rows;
}

export async function deleteChannel(db: SqlExecutor, organizationId: string, id: string): Promise<void> {
  const { rowCount } = await db.query('DELETE FROM notification_channels WHERE id = $1 AND organization_id = $2', [id, organizationId]);
  if (rowCount === 0) throw notFound('Channel');
  await db.query('UPDATE alert_rules SET channel_ids = array_remove(channel_ids, $1::uuid) WHERE organization_id = $2', [id, organizationId]);
}

export async function channelsForSending(db: SqlExecutor, ids: readonly string[]): Promise<ChannelForSending[]> {
  const { rows } = await db.query<ChannelForSending>(
    `SELECT id, organization_id AS "organizationId", name, kind, target, signing_secret AS "signingSecret", last_digest_at AS "lastDigestAt"
     FROM notification_channels WHERE id = ANY($1::uuid[])`, [ids]);
  return rows;
}

/** A channel's health after a delivery attempt, for admins (and the digest window). */
export async function recordChannelOutcome(db: SqlExecutor, id: string, outcome: { ok: boolean; error: string | null; digest: boolean }): Promise<void> {
  await db.query(
    outcome.ok
      ? `UPDATE notification_channels SET consecutive_failures = 0, last_success_at = NOW()${outcome.digest ? ', last_digest_at = NOW()' : ''} WHERE id = $1`
      : 'UPDATE notification_channels SET consecutive_failures = consecutive_failures + 1, last_error = $2, last_error_at = NOW() WHERE id = $1',
    outcome.ok ? [id] : [id, outcome.error ?? 'failed']);
}

export interface Delivery { id: number; outboxId: number; attempt: number; ok: boolean; statusCode: number | null; error: string | null; messages: number; durationMs: number; createdAt: Date }

/** The channel's latest delivery attempts, newest first. */
export async function listDeliveries(db: SqlExecutor, organizationId: string, channelId: string, limit: number): Promise<Delivery[]> {
  await getChannel(db, organizationId, channelId);
  const { rows } = await db.query<Delivery>(
    `SELECT id, outbox_id AS "outboxId", attempt, ok, status_code AS "statusCode", error, messages, duration_ms AS "durationMs", created_at AS "createdAt"
     FROM notification_deliveries WHERE channel_id = $1 ORDER BY id DESC LIMIT $2`, [channelId, limit]);
  return rows;
}

export interface MaintenanceWindow { id: string; organizationId: string; deviceId: string | null; startsAt: Date; endsAt: Date; reason: string; createdBy: string | null; createdAt: Date }

const WINDOW_COLUMNS = `id, organization_id AS "organizationId", device_id AS "deviceId", starts_at AS "startsAt", ends_at AS "endsAt",
  reason, created_by AS "createdBy", created_at AS "createdAt"`;

/** Mutes a device (or the whole organization when `deviceId` is null) from `startsAt` to `endsAt`. */
export async function createMaintenanceWindow(db: SqlExecutor, organizationId: string, input: { deviceId: string | null; startsAt: Date; endsAt: Date; reason: string; createdBy: string | null }): Promise<MaintenanceWindow> {
  if (input.endsAt <= input.startsAt) throw new AppError('BAD_REQUEST', 'A maintenance window must end after it starts');
  if (input.deviceId) {
    const { rowCount } = await db.query('SELECT 1 FROM devices WHERE id = $1 AND organization_id = $2', [input.deviceId, organizationId]);
    if (rowCount === 0) throw notFound('Device');
  }
  const { rows } = await db.query<MaintenanceWindow>(
    `INSERT INTO maintenance_windows (organization_id, device_id, starts_at, ends_at, reason, created_by)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${WINDOW_COLUMNS}`,
    [organizationId, input.deviceId, input.startsAt, input.endsAt, input.reason, input.createdBy],
  );
  return rows[0]!;
}

/** Windows not yet over, soonest first. */
export async function listMaintenanceWindows(db: SqlExecutor, organizationId: string): Promise<MaintenanceWindow[]> {
  const { rows } = await db.query<MaintenanceWindow>(
    `SELECT ${WINDOW_COLUMNS} FROM maintenance_windows WHERE organization_id = $1 AND ends_at > NOW() ORDER BY starts_at, id`, [organizationId]);
  return rows;
}

export async function deleteMaintenanceWindow(db: SqlExecutor, organizationId: string, id: string): Promise<void> {
  const { rowCount } = await db.query('DELETE FROM maintenance_windows WHERE id = $1 AND organization_id = $2', [id, organizationId]);
  if (rowCount === 0) throw notFound('Maintenance window');
}
