import type { SqlExecutor } from '../../stores/relational/index.ts';
import { AppError } from '../../platform/errors.ts';
import { describeCondition, severityAtLeast, type Severity } from './conditions.ts';
import { FLAP_WINDOW_MS, isFlapping } from './evaluator.ts';
import { readAlert, type Alert } from './alerts-repository.ts';
import type { AlertRule } from './rules-repository.ts';
import type { EventPublisher } from '../events/index.ts';
import {
  alertStateIn, channelsOf, deviceNameIn, inMaintenance, insertAlertEvent, insertNotification, insertOpenAlert,
  lockAlertWithChannels, markAcknowledged, markResolved, recentOpenings,
} from './lifecycle-repository.ts';


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
  const channels = await channelsOf(tx, alert.organizationId, channelIds);
  for (const channel of channels.filter((c) => severityAtLeast(alert.severity, c.minSeverity))) {
    await insertNotification(tx, { channelId: channel.id, organizationId: alert.organizationId, idempotencyKey: `alert-event:${eventId}:${channel.id}`, alertId: alert.id, payload });
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
  const deviceName = await deviceNameIn(tx, rule.organizationId, deviceId);
  if (deviceName === null) return null;
  const flapping = isFlapping(await recentOpenings(tx, key, FLAP_WINDOW_MS / 1000), Date.now());
  const muted = await inMaintenance(tx, rule.organizationId, deviceId);
  const shown = value === null ? '' : ` (now ${Math.round(value * 10) / 10})`;
  const title = `${deviceName}${subject ? ` ${subject}` : ''}: ${rule.name}: ${describeCondition(rule.condition)}${shown}`;
  const id = await insertOpenAlert(tx, {
    organizationId: rule.organizationId, ruleId: rule.id, deviceId, subject, dedupeKey: key, severity: rule.severity, title: title.slice(0, 2_000), value, muted, flapping,
  });
  if (id === null) return null;
  const alert = await readAlert(tx, id);
  const eventId = await insertAlertEvent(tx, alert, flapping ? 'flapping' : muted ? 'opened_muted' : 'opened', null);
  if (!muted && !flapping) {
    const payload = payloadOf(alert, 'alert.opened');
    await enqueue(tx, eventId, alert, rule.channelIds, payload);
    await publish(tx, events, eventId, payload);
  }
  return alert.id;
}

/** Resolves an active alert; `by` is the person, null when the condition cleared. Returns false if it was not active. */
export async function resolveAlert(tx: SqlExecutor, events: EventPublisher, alertId: string, by: string | null, channelIds: readonly string[], manual = by !== null): Promise<boolean> {
  if (!(await markResolved(tx, alertId, by, manual))) return false;
  const alert = await readAlert(tx, alertId);
  const eventId = await insertAlertEvent(tx, alert, 'resolved', by);
  if (!alert.muted && !alert.flapping) {
    const payload = payloadOf(alert, 'alert.resolved');
    await enqueue(tx, eventId, alert, channelIds, payload);
    await publish(tx, events, eventId, payload);
  }
  return true;
}

/** A person takes an open alert: it stays active (and deduplicated) until it resolves. */
export async function acknowledgeAlert(tx: SqlExecutor, organizationId: string, alertId: string, by: string | null): Promise<void> {
  if (!(await markAcknowledged(tx, organizationId, alertId, by))) {
    const state = await alertStateIn(tx, organizationId, alertId);
    if (state === null) throw new AppError('NOT_FOUND', 'Alert not found');
    throw new AppError('CONFLICT', `The alert is ${state}, not open`);
  }
  await insertAlertEvent(tx, await readAlert(tx, alertId), 'acknowledged', by);
}

/** A person resolves an alert of their organization. */
export async function resolveByPerson(tx: SqlExecutor, events: EventPublisher, organizationId: string, alertId: string, by: string | null): Promise<void> {
  const locked = await lockAlertWithChannels(tx, organizationId, alertId);
  if (!locked) throw new AppError('NOT_FOUND', 'Alert not found');
  if (locked.state === 'resolved') throw new AppError('CONFLICT', 'The alert is already resolved');
  await resolveAlert(tx, events, alertId, by, locked.channelIds, true);
}

export { payloadOf };
