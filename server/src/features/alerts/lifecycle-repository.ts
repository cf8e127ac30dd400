import { sql } from 'kysely';
import { anyUuid, secondsAgo, typed, type SqlExecutor } from '../../stores/relational/index.ts';
import type { Severity } from './conditions.ts';
import type { Alert } from './alerts-repository.ts';

/**
 * The statements of an alert's life (open, acknowledge, resolve, notify), typed with Kysely so a
 * renamed column is a compile error. Each is one statement, run inside the caller's transaction.
 */

/** Not resolved: open or acknowledged. The partial unique index on dedupe_key has this predicate. */
const ACTIVE = sql.lit('resolved');

/** The alert's row in `alert_event_log` (what the history ETL and the notifications key on); its id. */
export async function insertAlertEvent(tx: SqlExecutor, alert: Pick<Alert, 'id' | 'organizationId' | 'deviceId' | 'ruleId' | 'severity'>, type: string, actorId: string | null): Promise<number> {
  const row = await typed(tx).insertInto('alertEventLog').values({
    alertId: alert.id, organizationId: alert.organizationId, deviceId: alert.deviceId, ruleId: alert.ruleId,
    eventType: type, severity: alert.severity, actorId,
  }).returning('id').executeTakeFirstOrThrow();
  return Number(row.id);
}

/** The organization's channels among `channelIds`, with the lowest severity each takes. */
export async function channelsOf(tx: SqlExecutor, organizationId: string, channelIds: readonly string[]): Promise<{ id: string; minSeverity: Severity }[]> {
  return typed(tx).selectFrom('notificationChannels').select(['id', 'minSeverity'])
    .where('organizationId', '=', organizationId).where('id', '=', anyUuid(channelIds))
    .$narrowType<{ minSeverity: Severity }>().execute();
}

/** One notification to send; a second with the same idempotency key is a no-op. */
export async function insertNotification(tx: SqlExecutor, row: { channelId: string; organizationId: string; idempotencyKey: string; alertId: string; payload: unknown }): Promise<void> {
  await typed(tx).insertInto('notificationOutbox').values({
    channelId: row.channelId, organizationId: row.organizationId, idempotencyKey: row.idempotencyKey, alertId: row.alertId,
    payload: sql`${JSON.stringify(row.payload)}::jsonb`,
  }).onConflict((conflict) => conflict.column('idempotencyKey').doNothing()).execute();
}

/** The device's name, if it is the organization's. */
export async function deviceNameIn(tx: SqlExecutor, organizationId: string, deviceId: string): Promise<string | null> {
  const row = await typed(tx).selectFrom('devices').select('name').where('id', '=', deviceId).where('organizationId', '=', organizationId).executeTakeFirst();
  return row?.name ?? null;
}

/** When alerts of this dedupe key opened within the last `withinSec` seconds (flapping is judged on them). */
export async function recentOpenings(tx: SqlExecutor, key: string, withinSec: number): Promise<number[]> {
  const rows = await typed(tx).selectFrom('alerts').select('openedAt')
    .where('dedupeKey', '=', key).where('openedAt', '>', secondsAgo(withinSec)).execute();
  return rows.map((row) => new Date(row.openedAt).getTime());
}

/** Whether a maintenance window covers the device (or its whole organization) now. */
export async function inMaintenance(tx: SqlExecutor, organizationId: string, deviceId: string): Promise<boolean> {
  const row = await typed(tx).selectFrom('maintenanceWindows').select(sql.lit(1).as('one'))
    .where('organizationId', '=', organizationId)
    .where((eb) => eb.or([eb('deviceId', 'is', null), eb('deviceId', '=', deviceId)]))
    .where('startsAt', '<=', sql<Date>`NOW()`).where('endsAt', '>', sql<Date>`NOW()`)
    .limit(1).executeTakeFirst();
  return row !== undefined;
}

/** A new open alert, unless one of its dedupe key is active: its id, or null. */
export async function insertOpenAlert(tx: SqlExecutor, alert: {
  organizationId: string; ruleId: string; deviceId: string; subject: string; dedupeKey: string;
  severity: Severity; title: string; value: number | null; muted: boolean; flapping: boolean;
}): Promise<string | null> {
  const row = await typed(tx).insertInto('alerts').values({ ...alert, state: sql.lit('open') })
    .onConflict((conflict) => conflict.column('dedupeKey').where('state', '<>', ACTIVE).doNothing())
    .returning('id').executeTakeFirst();
  return row?.id ?? null;
}

/** Resolves the alert if it is active; whether it was. */
export async function markResolved(tx: SqlExecutor, alertId: string, by: string | null, manual: boolean): Promise<boolean> {
  const row = await typed(tx).updateTable('alerts')
    .set({ state: sql.lit('resolved'), resolvedAt: sql<Date>`NOW()`, resolvedBy: by, resolution: manual ? 'manual' : 'auto' })
    .where('id', '=', alertId).where('state', '<>', ACTIVE).returning('id').executeTakeFirst();
  return row !== undefined;
}

/** The active alert of a dedupe key, if any. */
export async function activeAlertId(tx: SqlExecutor, key: string): Promise<string | null> {
  const row = await typed(tx).selectFrom('alerts').select('id').where('dedupeKey', '=', key).where('state', '<>', ACTIVE).executeTakeFirst();
  return row?.id ?? null;
}

/** Acknowledges the organization's alert if it is open; whether it was. */
export async function markAcknowledged(tx: SqlExecutor, organizationId: string, alertId: string, by: string | null): Promise<boolean> {
  const row = await typed(tx).updateTable('alerts')
    .set({ state: sql.lit('acknowledged'), acknowledgedAt: sql<Date>`NOW()`, acknowledgedBy: by })
    .where('id', '=', alertId).where('organizationId', '=', organizationId).where('state', '=', sql.lit('open'))
    .returning('id').executeTakeFirst();
  return row !== undefined;
}

/** The state of the organization's alert, or null when it has none by that id. */
export async function alertStateIn(tx: SqlExecutor, organizationId: string, alertId: string): Promise<string | null> {
  const row = await typed(tx).selectFrom('alerts').select('state').where('id', '=', alertId).where('organizationId', '=', organizationId).executeTakeFirst();
  return row?.state ?? null;
}

/** The organization's alert, locked to the transaction's end, with its rule's channels; null when it has none by that id. */
export async function lockAlertWithChannels(tx: SqlExecutor, organizationId: string, alertId: string): Promise<{ channelIds: string[]; state: string } | null> {
  const row = await typed(tx).selectFrom('alerts as a').innerJoin('alertRules as r', 'r.id', 'a.ruleId')
    .select([sql<string[]>`r.channel_ids::text[]`.as('channelIds'), 'a.state'])
    .where('a.id', '=', alertId).where('a.organizationId', '=', organizationId)
    .forUpdate('a').executeTakeFirst();
  return row ?? null;
}
