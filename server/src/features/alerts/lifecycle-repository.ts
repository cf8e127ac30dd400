import type { SqlExecutor } from '../../stores/relational/index.ts';
import type { Severity } from './conditions.ts';
import type { Alert } from './alerts-repository.ts';

/** The alert's row in `alert_event_log` (what the history ETL and the notifications key on); its id. */
export async function insertAlertEvent(tx: SqlExecutor, alert: Pick<Alert, 'id' | 'organizationId' | 'deviceId' | 'ruleId' | 'severity'>, type: string, actorId: string | null): Promise<number> {
  const { rows } = await tx.query<{ id: string }>(
    `INSERT INTO alert_event_log (alert_id, organization_id, device_id, rule_id, event_type, severity, actor_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
    [alert.id, alert.organizationId, alert.deviceId, alert.ruleId, type, alert.severity, actorId],
  );
  return Number(rows[0]!.id);
}

/** The organization's channels among `channelIds`, with the lowest severity each takes. */
export async function channelsOf(tx: SqlExecutor, organizationId: string, channelIds: readonly string[]): Promise<{ id: string; minSeverity: Severity }[]> {
  const { rows } = await tx.query<{ id: string; min_severity: Severity }>(
    'SELECT id, min_severity FROM notification_channels WHERE organization_id = $1 AND id = ANY($2::uuid[])', [organizationId, channelIds]);
  return rows.map((row) => ({ id: row.id, minSeverity: row.min_severity }));
}

/** One notification to send; a second with the same idempotency key is a no-op. */
export async function insertNotification(tx: SqlExecutor, row: { channelId: string; organizationId: string; idempotencyKey: string; alertId: string; payload: unknown }): Promise<void> {
  await tx.query(
    `INSERT INTO notification_outbox (channel_id, organization_id, idempotency_key, alert_id, payload)
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (idempotency_key) DO NOTHING`,
    [row.channelId, row.organizationId, row.idempotencyKey, row.alertId, JSON.stringify(row.payload)],
  );
}

/** The device's name, if it is the organization's. */
export async function deviceNameIn(tx: SqlExecutor, organizationId: string, deviceId: string): Promise<string | null> {
  const { rows } = await tx.query<{ name: string }>('SELECT name FROM devices WHERE id = $1 AND organization_id = $2', [deviceId, organizationId]);
  return rows[0]?.name ?? null;
}

/** When alerts of this dedupe key opened within the last `withinSec` seconds (flapping is judged on them). */
export async function recentOpenings(tx: SqlExecutor, key: string, withinSec: number): Promise<number[]> {
  const { rows } = await tx.query<{ opened_at: Date }>(
    'SELECT opened_at FROM alerts WHERE dedupe_key = $1 AND opened_at > NOW() - make_interval(secs => $2)', [key, withinSec]);
  return rows.map((row) => new Date(row.opened_at).getTime());
}

/** Whether a maintenance window covers the device (or its whole organization) now. */
export async function inMaintenance(tx: SqlExecutor, organizationId: string, deviceId: string): Promise<boolean> {
  const { rows } = await tx.query(
    `SELECT 1 FROM maintenance_windows WHERE organization_id = $1 AND (device_id IS NULL OR device_id = $2) AND starts_at <= NOW() AND ends_at > NOW() LIMIT 1`,
    [organizationId, deviceId]);
  return rows.length > 0;
}

/** A new open alert, unless one of its dedupe key is active: its id, or null. */
export async function insertOpenAlert(tx: SqlExecutor, alert: {
  organizationId: string; ruleId: string; deviceId: string; subject: string; dedupeKey: string;
  severity: Severity; title: string; value: number | null; muted: boolean; flapping: boolean;
}): Promise<string | null> {
  const { rows } = await tx.query<{ id: string }>(
    `INSERT INTO alerts (organization_id, rule_id, device_id, subject, dedupe_key, state, severity, title, value, muted, flapping)
     VALUES ($1, $2, $3, $4, $5, 'open', $6, $7, $8, $9, $10)
     ON CONFLICT (dedupe_key) WHERE state <> 'resolved' DO NOTHING RETURNING id`,
    [alert.organizationId, alert.ruleId, alert.deviceId, alert.subject, alert.dedupeKey, alert.severity, alert.title, alert.value, alert.muted, alert.flapping],
  );
  return rows[0]?.id ?? null;
}

/** Resolves the alert if it is active; whether it was. */
export async function markResolved(tx: SqlExecutor, alertId: string, by: string | null, manual: boolean): Promise<boolean> {
  const { rows } = await tx.query<{ id: string }>(
    `UPDATE alerts SET state = 'resolved', resolved_at = NOW(), resolved_by = $2, resolution = $3
     WHERE id = $1 AND state <> 'resolved' RETURNING id`, [alertId, by, manual ? 'manual' : 'auto']);
  return rows.length > 0;
}

/** The active alert of a dedupe key, if any. */
export async function activeAlertId(tx: SqlExecutor, key: string): Promise<string | null> {
  const { rows } = await tx.query<{ id: string }>("SELECT id FROM alerts WHERE dedupe_key = $1 AND state <> 'resolved'", [key]);
  return rows[0]?.id ?? null;
}

/** Acknowledges the organization's alert if it is open; whether it was. */
export async function markAcknowledged(tx: SqlExecutor, organizationId: string, alertId: string, by: string | null): Promise<boolean> {
  const { rows } = await tx.query<{ id: string }>(
    `UPDATE alerts SET state = 'acknowledged', acknowledged_at = NOW(), acknowledged_by = $3
     WHERE id = $1 AND organization_id = $2 AND state = 'open' RETURNING id`, [alertId, organizationId, by]);
  return rows.length > 0;
}

/** The state of the organization's alert, or null when it has none by that id. */
export async function alertStateIn(tx: SqlExecutor, organizationId: string, alertId: string): Promise<string | null> {
  const { rows } = await tx.query<{ state: string }>('SELECT state FROM alerts WHERE id = $1 AND organization_id = $2', [alertId, organizationId]);
  return rows[0]?.state ?? null;
}

/** The organization's alert, locked to the transaction's end, with its rule's channels; null when it has none by that id. */
export async function lockAlertWithChannels(tx: SqlExecutor, organizationId: string, alertId: string): Promise<{ channelIds: string[]; state: string } | null> {
  const { rows } = await tx.query<{ channel_ids: string[]; state: string }>(
    `SELECT r.channel_ids::text[] AS channel_ids, a.state FROM alerts a JOIN alert_rules r ON r.id = a.rule_id
     WHERE a.id = $1 AND a.organization_id = $2 FOR UPDATE OF a`, [alertId, organizationId]);
  return rows[0] ? { channelIds: rows[0].channel_ids, state: rows[0].state } : null;
}
