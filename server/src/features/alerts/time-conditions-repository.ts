import { sql } from 'kysely';
import { anyUuid, secondsAgo, typed, type SqlExecutor } from '../../stores/relational/index.ts';

/** The rule fields the time-condition queries read. */
interface RuleScope { id: string; organizationId: string; excludedDeviceIds: readonly string[] }

/** The database's now minus some seconds: time is the database's, like NOW() in the writes. */

/** Devices of the rule's organization (not excluded, not decommissioned) offline for longer than `forSec`, with their minutes offline. */
export async function offlineDevices(db: SqlExecutor, rule: RuleScope, forSec: number): Promise<Map<string, number>> {
  const rows = await typed(db).selectFrom('devices as d')
    .select((eb) => ['d.id', sql<number>`floor(extract(epoch FROM NOW() - ${eb.ref('d.lastSeen')}) / 60)::int`.as('minutes')])
    .where('d.organizationId', '=', rule.organizationId).where('d.decommissionedAt', 'is', null).where('d.status', '=', sql.lit('offline'))
    .where('d.lastSeen', '<', secondsAgo(forSec)).where((eb) => eb.not(eb('d.id', '=', anyUuid(rule.excludedDeviceIds))))
    .execute();
  return new Map(rows.map((row) => [row.id, row.minutes]));
}

/**
 * Devices whose agent dropped buffered samples lately: the drop counter (from heartbeats) grew
 * within `forSec`. The last counter seen is kept in alert_condition_state; the first reading is
 * the baseline, so drops from before the rule existed raise nothing.
 */
export async function droppingDevices(db: SqlExecutor, rule: RuleScope, forSec: number): Promise<Map<string, number>> {
  await typed(db).insertInto('alertConditionState').columns(['ruleId', 'deviceId', 'subject', 'lastCounter', 'lastAt'])
    .expression((eb) => eb.selectFrom('devices as d')
      .where('d.organizationId', '=', rule.organizationId).where('d.decommissionedAt', 'is', null)
      .select([sql<string>`${rule.id}`.as('ruleId'), 'd.id as deviceId', sql.lit('').as('subject'), 'd.droppedTotal as lastCounter', sql<Date | null>`NULL::timestamptz`.as('lastAt')]))
    .onConflict((conflict) => conflict.columns(['ruleId', 'deviceId', 'subject'])
      .doUpdateSet((eb) => ({ lastCounter: eb.ref('excluded.lastCounter'), lastAt: sql<Date>`NOW()` }))
      .where((eb) => eb('alertConditionState.lastCounter', 'is distinct from', eb.ref('excluded.lastCounter'))))
    .execute();
  const rows = await typed(db).selectFrom('alertConditionState as s').select(['s.deviceId', 's.lastCounter'])
    .where('s.ruleId', '=', rule.id).where('s.lastAt', '>', secondsAgo(forSec))
    .where((eb) => eb.not(eb('s.deviceId', '=', anyUuid(rule.excludedDeviceIds))))
    .execute();
  return new Map(rows.map((row) => [row.deviceId, Number(row.lastCounter)]));
}

/** The agent version of every live device of the rule's organization that reported one (not excluded). */
export async function agentVersions(db: SqlExecutor, rule: RuleScope): Promise<{ id: string; version: string }[]> {
  return typed(db).selectFrom('devices').select(['id', 'agentVersion as version'])
    .where('organizationId', '=', rule.organizationId).where('decommissionedAt', 'is', null).where('agentVersion', 'is not', null)
    .where((eb) => eb.not(eb('id', '=', anyUuid(rule.excludedDeviceIds))))
    .$narrowType<{ version: string }>()
    .execute();
}

/** The rule's alerts not yet resolved, by device. */
export async function activeAlertsOfRule(db: SqlExecutor, ruleId: string): Promise<{ id: string; deviceId: string }[]> {
  return typed(db).selectFrom('alerts').select(['id', 'deviceId']).where('ruleId', '=', ruleId).where('state', '<>', sql.lit('resolved')).execute();
}
