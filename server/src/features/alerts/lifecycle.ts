import type { SqlExecutor } from '../../stores/relational/index.ts';
import { AppError } from '../../platform/errors.ts';
import { describeCondition, severityAtLeast, type Severity } from './conditions.ts';
import { FLAP_WINDOW_MS, isFlapping } from './evaluator.ts';
import { readAlert, type Alert } from './alerts-repository.ts';
import type { AlertRule } from './rules-repository.ts';
import type { EventPublisher } from '../events/index.ts';

/** What a notification carries; rendered when the transition commits, so every retry sends the same thing. */
export interface NotificationPayload {
  event: 'alert.opened' | 'alert.resolved' | 'channel.test';
  organizationId: string;
  alert: {
    id: string; title: string; severity: Severity; state: string; deviceId: string; deviceName: string;
    ruleId: string; ruleName: string; value: number | null; openedAt: string; resolvedAt: string | null;
  } | null;
  text: string;
}

export const dedupeKey = (ruleId: string, deviceId: string, subject: string) => `${ruleId}:${deviceId}:${subject}`;

async function logEvent(tx: SqlExecutor, alert: Pick<Alert, 'id' | 'organizationId' | 'deviceId' | 'ruleId' | 'severity'>, type: string, actorId: string | null): Promise<number> {
  const { rows } = await tx.query<{ id: string }>(
    `INSERT INTO alert_event_log (alert_id, organization_id, device_id, rule_id, event_type, severity, actor_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
    [alert.id, alert.organizationId, alert.deviceId, alert.ruleId, type, alert.severity, actorId],
  );
  return Number(rows[0]!.id);
}

function payloadOf(alert: Alert, event: NotificationPayload['event']): NotificationPayload {
  const verb = event === 'alert.resolved' ? 'RESOLVED' : alert.severity.toUpperCase();
  return {
    event,
    organizationId: alert.organizationId,
    alert: {
      id: alert.id, title: alert.title, severity: alert.severity, state: alert.state, deviceId: alert.deviceId, deviceName: alert.deviceName,
      ruleId: alert.ruleId, ruleName: alert.ruleName, value: alert.value, openedAt: new Date(alert.openedAt).toISOString(),
      resolvedAt: alert.resolvedAt ? new Date(alert.resolvedAt).toISOString() : null,
    },
    text: `[${verb}] ${alert.title}`,
  };
}

/**
 * One outbox row per channel of the rule that takes this severity, in the transition's
 * transaction: the notification exists exactly when the transition does. The key (event and
 * channel) makes a second enqueue of the same transition a no-op.
 */
async function enqueue(tx: SqlExecutor, eventId: number, alert: Alert, channelIds: readonly string[], payload: NotificationPayload) {
  if (channelIds.length === 0) return;
  const { rows } = await tx.query<{ id: string; minSeverity: Severity }>(
    `SELECT id, min_severity AS "minSeverity" FROM notification_channels WHERE organization_id = $1 AND id = ANY($2::uuid[])`,
    [alert.organizationId, channelIds],
  );
  for (const channel of rows.filter((c) => severityAtLeast(alert.severity, c.minSeverity))) {
    await tx.query(
      `INSERT INTO notification_outbox (channel_id, organization_id, idempotency_key, alert_id, payload)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (idempotency_key) DO NOTHING`,
      [channel.id, alert.organizationId, `alert-event:${eventId}:${channel.id}`, alert.id, JSON.stringify(payload)],
    );
  }
}

/** The event webhooks' copy of a transition, in its transaction; the alert event's row makes it unique. */
function publish(tx: SqlExecutor, events: EventPublisher, eventId: number, payload: NotificationPayload): Promise<void> {
  return events.publish(tx, { type: payload.event as 'alert.opened' | 'alert.resolved', organizationId: payload.organizationId, source: String(eventId), data: { alert: payload.alert } });
}

/**
 * Opens the alert of a rule on a device (and subject) unless one is already active for that
 * dedupe key. In a maintenance window it opens muted; after too many opens it opens flapping:
 * both are visible in the inbox and notify nobody. Returns the new alert's id, or null.
 */
export async function openAlert(tx: SqlExecutor, events: EventPublisher, rule: AlertRule, deviceId: string, subject: string, value: number | null): Promise<string | null> {
  const key = dedupeKey(rule.id, deviceId, subject);
  const { rows: device } = await tx.query<{ name: string }>('SELECT name FROM devices WHERE id = $1 AND organization_id = $2', [deviceId, rule.organizationId]);
  if (!device[0]) return null;
  const { rows: before } = await tx.query<{ openedAt: Date }>(
    `SELECT opened_at AS "openedAt" FROM alerts WHERE dedupe_key = $1 AND opened_at > NOW() - make_interval(secs => $2)`, [key, FLAP_WINDOW_MS / 1000]);
  const flapping = isFlapping(before.map((row) => new Date(row.openedAt).getTime()), Date.now());
  const { rows: windows } = await tx.query(
    `SELECT 1 FROM maintenance_windows WHERE organization_id = $1 AND (device_id IS NULL OR device_id = $2) AND starts_at <= NOW() AND ends_at > NOW() LIMIT 1`,
    [rule.organizationId, deviceId]);
  const muted = windows.length > 0;
  const shown = value === null ? '' : ` (now ${Math.round(value * 10) / 10})`;
  const title = `${device[0].name}${subject ? ` ${subject}` : ''}: ${rule.name}: ${describeCondition(rule.condition)}${shown}`;
  const { rows } = await tx.query<{ id: string }>(
    `INSERT INTO alerts (organization_id, rule_id, device_id, subject, dedupe_key, state, severity, title, value, muted, flapping)
     VALUES ($1, $2, $3, $4, $5, 'open', $6, $7, $8, $9, $10)
     ON CONFLICT (dedupe_key) WHERE state <> 'resolved' DO NOTHING RETURNING id`,
    [rule.organizationId, rule.id, deviceId, subject, key, rule.severity, title.slice(0, 2_000), value, muted, flapping],
  );
  if (!rows[0]) return null;
  const alert = await readAlert(tx, rows[0].id);
  const eventId = await logEvent(tx, alert, flapping ? 'flapping' : muted ? 'opened_muted' : 'opened', null);
  if (!muted && !flapping) {
    const payload = payloadOf(alert, 'alert.opened');
    await enqueue(tx, eventId, alert, rule.channelIds, payload);
    await publish(tx, events, eventId, payload);
  }
  return alert.id;
}

/** Resolves an active alert; `by` is the person, null when the condition cleared. Returns false if it was not active. */
export async function resolveAlert(tx: SqlExecutor, events: EventPublisher, alertId: string, by: string | null, channelIds: readonly string[], manual = by !== null): Promise<boolean> {
  const { rows } = await tx.query<{ id: string }>(
    `UPDATE alerts SET state = 'resolved', resolved_at = NOW(), resolved_by = $2, resolution = $3
     WHERE id = $1 AND state <> 'resolved' RETURNING id`, [alertId, by, manual ? 'manual' : 'auto']);
  if (!rows[0]) return false;
  const alert = await readAlert(tx, alertId);
  const eventId = await logEvent(tx, alert, 'resolved', by);
  if (!alert.muted && !alert.flapping) {
    const payload = payloadOf(alert, 'alert.resolved');
    await enqueue(tx, eventId, alert, channelIds, payload);
    await publish(tx, events, eventId, payload);
  }
  return true;
}

/** The active alert of a dedupe key, if any. */
export async function activeAlertId(tx: SqlExecutor, key: string): Promise<string | null> {
  const { rows } = await tx.query<{ id: string }>("SELECT id FROM alerts WHERE dedupe_key = $1 AND state <> 'resolved'", [key]);
  return rows[0]?.id ?? null;
}

/** A person takes an open alert: it stays active (and deduplicated) until it resolves. */
export async function acknowledgeAlert(tx: SqlExecutor, organizationId: string, alertId: string, by: string | null): Promise<void> {
  const { rows } = await tx.query<{ id: string }>(
    `UPDATE alerts SET state = 'acknowledged', acknowledged_at = NOW(), acknowledged_by = $3
     WHERE id = $1 AND organization_id = $2 AND state = 'open' RETURNING id`, [alertId, organizationId, by]);
  if (!rows[0]) {
    const { rows: existing } = await tx.query<{ state: string }>('SELECT state FROM alerts WHERE id = $1 AND organization_id = $2', [alertId, organizationId]);
    if (!existing[0]) throw new AppError('NOT_FOUND', 'Alert not found');
    throw new AppError('CONFLICT', `The alert is ${existing[0].state}, not open`);
  }
  await logEvent(tx, await readAlert(tx, alertId), 'acknowledged', by);
}

/** A person resolves an alert of their organization. */
export async function resolveByPerson(tx: SqlExecutor, events: EventPublisher, organizationId: string, alertId: string, by: string | null): Promise<void> {
  const { rows } = await tx.query<{ channelIds: string[]; state: string }>(
    `SELECT r.channel_ids::text[] AS "channelIds", a.state FROM alerts a JOIN alert_rules r ON r.id = a.rule_id
     WHERE a.id = $1 AND a.organization_id = $2 FOR UPDATE OF a`, [alertId, organizationId]);
  if (!rows[0]) throw new AppError('NOT_FOUND', 'Alert not found');
  if (rows[0].state === 'resolved') throw new AppError('CONFLICT', 'The alert is already resolved');
  await resolveAlert(tx, events, alertId, by, rows[0].channelIds, true);
}

export { payloadOf };
