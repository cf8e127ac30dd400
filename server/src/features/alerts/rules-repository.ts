import { sql } from 'kysely';
import { anyText, anyUuid, uuidArray, typed, type SqlExecutor } from '../../stores/relational/index.ts';
import { AppError, isUniqueViolation, notFound } from '../../platform/errors.ts';
import type { Condition, Severity } from './conditions.ts';
import { checkScope, type ScopeKind } from '../fleet/index.ts';

/** A rule: one condition over the devices of its scope, with what to do when it fires. */
export interface AlertRule {
  id: string;
  organizationId: string;
  name: string;
  /** Which devices the rule watches: the whole organization, or a site, group or tag of it (`scopeValue` is its id). */
  scopeKind: string;
  scopeValue: string | null;
  condition: Condition;
  severity: Severity;
  channelIds: string[];
  openTicket: boolean;
  closeTicketOnResolve: boolean;
  enabled: boolean;
  excludedDeviceIds: string[];
  /** The saved script run on the device when an alert of this rule opens, or null. */
  remediationScriptId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * Every query of alert rules and their exclusions. Typed with Kysely, with `sql` fragments only
 * where PostgreSQL says it better (array casts, JSON fields, ANY over one array parameter).
 */

/** What the schema leaves wider than the rows are: the JSON condition, values the code writes, and aggregates. */
type RuleNarrowing = { condition: Condition; severity: Severity; channelIds: string[]; excludedDeviceIds: string[] };

/** Rules with their exclusions, as `r`; the caller adds the filters. */
function selectRules(db: SqlExecutor) {
  return typed(db).selectFrom('alertRules as r')
    .select((eb) => [
      'r.id', 'r.organizationId', 'r.name', 'r.scopeKind', 'r.scopeValue', 'r.condition', 'r.severity',
      // uuid[] comes back from the drivers as array text; text[] comes back as an array.
      sql<string[]>`${eb.ref('r.channelIds')}::text[]`.as('channelIds'),
      'r.openTicket', 'r.closeTicketOnResolve', 'r.enabled', 'r.remediationScriptId', 'r.createdAt', 'r.updatedAt',
      eb.fn.coalesce(
        eb.selectFrom('alertExclusions as e').select((inner) => sql<string[]>`array_agg(${inner.ref('e.deviceId')}::text)`.as('deviceIds'))
          .whereRef('e.ruleId', '=', 'r.id').$asScalar(),
        sql<string[]>`'{}'`,
      ).as('excludedDeviceIds'),
    ])
    .$narrowType<RuleNarrowing>();
}

export interface RuleInput {
  name: string;
  condition: Condition;
  severity: Severity;
  channelIds: string[];
  openTicket: boolean;
  closeTicketOnResolve: boolean;
  enabled: boolean;
  /** Omitted: the whole organization. */
  scope?: { kind: ScopeKind; id: string | null } | undefined;
  /** Devices the rule leaves out; omitted: unchanged (none for a new rule). */
  excludedDeviceIds?: string[] | undefined;
  /** A saved script of the organization to run when an alert opens; null or omitted: none. */
  remediationScriptId?: string | null | undefined;
}

/** A remediation script must be the organization's own: another organization's script is not found. */
async function assertScript(db: SqlExecutor, organizationId: string, scriptId: string | null | undefined) {
  if (!scriptId) return;
  const row = await typed(db).selectFrom('scripts').select(sql.lit(1).as('one'))
    .where('id', '=', scriptId).where('organizationId', '=', organizationId).executeTakeFirst();
  if (!row) throw notFound('Script');
}

/** Exclusions name the organization's devices only: another organization's device is not found. Checked before any write. */
async function assertOwnDevices(db: SqlExecutor, organizationId: string, deviceIds: readonly string[] | undefined) {
  const unique = [...new Set(deviceIds ?? [])];
  if (unique.length === 0) return;
  const { n } = await typed(db).selectFrom('devices').select((eb) => eb.fn.countAll<number>().as('n'))
    .where('organizationId', '=', organizationId).where('id', '=', anyUuid(unique)).executeTakeFirstOrThrow();
  if (n !== unique.length) throw notFound('Device');
}

/** Two statements: the old exclusions go, the new ones come in as one array. */
async function replaceExclusions(db: SqlExecutor, ruleId: string, deviceIds: readonly string[]) {
  const unique = [...new Set(deviceIds)];
  await typed(db).deleteFrom('alertExclusions').where('ruleId', '=', ruleId).execute();
  if (unique.length > 0) {
    await typed(db).insertInto('alertExclusions').columns(['ruleId', 'deviceId'])
      .expression(typed(db).selectNoFrom([sql<string>`${ruleId}`.as('ruleId'), sql<string>`unnest(${unique}::uuid[])`.as('deviceId')]))
      .execute();
  }
}

/** Channels must be the organization's own: another organization's channel is not found. */
async function assertChannels(db: SqlExecutor, organizationId: string, channelIds: readonly string[]) {
  if (channelIds.length === 0) return;
  const unique = [...new Set(channelIds)];
  const { n } = await typed(db).selectFrom('notificationChannels').select((eb) => eb.fn.countAll<number>().as('n'))
    .where('organizationId', '=', organizationId).where('id', '=', anyUuid(unique)).executeTakeFirstOrThrow();
  if (n !== unique.length) throw notFound('Channel');
}

export async function createRule(db: SqlExecutor, organizationId: string, input: RuleInput): Promise<AlertRule> {
  await assertChannels(db, organizationId, input.channelIds);
  const scope = await checkScope(db, organizationId, input.scope?.kind ?? 'organization', input.scope?.id ?? null);
  await assertOwnDevices(db, organizationId, input.excludedDeviceIds);
  await assertScript(db, organizationId, input.remediationScriptId);
  if (input.condition.kind === 'script') await assertScript(db, organizationId, input.condition.scriptId);
  try {
    const { id } = await typed(db).insertInto('alertRules')
      .values({
        organizationId, name: input.name, condition: JSON.stringify(input.condition), severity: input.severity,
        channelIds: uuidArray([...new Set(input.channelIds)]), openTicket: input.openTicket, closeTicketOnResolve: input.closeTicketOnResolve,
        enabled: input.enabled, scopeKind: scope.scopeKind, scopeValue: scope.scopeValue, remediationScriptId: input.remediationScriptId ?? null,
      })
      .returning('id').executeTakeFirstOrThrow();
    if (input.excludedDeviceIds?.length) await replaceExclusions(db, id, input.excludedDeviceIds);
    return getRule(db, organizationId, id);
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError('CONFLICT', `A rule named "${input.name}" already exists`);
    throw error;
  }
}

/**
 * Changing a rule's condition forgets the evaluator's memory of it: the next readings are
 * judged by the new condition, and an alert that no longer holds resolves.
 */
export async function updateRule(db: SqlExecutor, organizationId: string, id: string, changes: Partial<RuleInput>): Promise<AlertRule> {
  const current = await getRule(db, organizationId, id);
  if (changes.channelIds) await assertChannels(db, organizationId, changes.channelIds);
  const next = { ...current, ...changes };
  const scope = changes.scope ? await checkScope(db, organizationId, changes.scope.kind, changes.scope.id) : { scopeKind: current.scopeKind, scopeValue: current.scopeValue };
  await assertOwnDevices(db, organizationId, changes.excludedDeviceIds);
  await assertScript(db, organizationId, changes.remediationScriptId);
  if (changes.condition?.kind === 'script') await assertScript(db, organizationId, changes.condition.scriptId);
  try {
    await typed(db).updateTable('alertRules')
      .set({
        name: next.name, condition: JSON.stringify(next.condition), severity: next.severity, channelIds: uuidArray([...new Set(next.channelIds)]),
        openTicket: next.openTicket, closeTicketOnResolve: next.closeTicketOnResolve, enabled: next.enabled, scopeKind: scope.scopeKind,
        scopeValue: scope.scopeValue, remediationScriptId: next.remediationScriptId ?? null, updatedAt: sql<Date>`NOW()`,
      })
      .where('id', '=', id).where('organizationId', '=', organizationId)
      .execute();
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError('CONFLICT', `A rule named "${next.name}" already exists`);
    throw error;
  }
  if (changes.condition) {
    await typed(db).updateTable('alertConditionState').set({ breachingSince: null }).where('ruleId', '=', id).execute();
    // A script check with a new condition runs again at once rather than at its old time.
    await typed(db).updateTable('alertRules').set({ nextCheckAt: null }).where('id', '=', id).execute();
  }
  if (changes.excludedDeviceIds) await replaceExclusions(db, id, changes.excludedDeviceIds);
  return getRule(db, organizationId, id);
}

export async function getRule(db: SqlExecutor, organizationId: string, id: string): Promise<AlertRule> {
  const row = await selectRules(db).where('r.id', '=', id).where('r.organizationId', '=', organizationId).executeTakeFirst();
  if (!row) throw notFound('Rule');
  return row;
}

/** A rule by id alone, or null: for the scheduler's own work, which follows a rule it already holds the id of. */
export async function ruleById(db: SqlExecutor, id: string): Promise<AlertRule | null> {
  return (await selectRules(db).where('r.id', '=', id).executeTakeFirst()) ?? null;
}

/** A rule by id or by name (the CLI names them). */
export async function findRule(db: SqlExecutor, organizationId: string, ref: string): Promise<AlertRule> {
  const row = await selectRules(db).where('r.organizationId', '=', organizationId)
    .where((eb) => eb.or([eb(sql<string>`${eb.ref('r.id')}::text`, '=', ref), eb('r.name', '=', ref)]))
    .limit(1).executeTakeFirst();
  if (!row) throw notFound(`Rule "${ref}"`);
  return row;
}

export async function listRules(db: SqlExecutor, organizationId: string): Promise<AlertRule[]> {
  return selectRules(db).where('r.organizationId', '=', organizationId).orderBy('r.name').execute();
}

/** Deleting a rule deletes its alerts and state (cascade); their events stay in alert_event_log and ClickHouse. */
export async function deleteRule(db: SqlExecutor, organizationId: string, id: string): Promise<void> {
  const result = await typed(db).deleteFrom('alertRules').where('id', '=', id).where('organizationId', '=', organizationId).executeTakeFirst();
  if (result.numDeletedRows === 0n) throw notFound('Rule');
}

/** Enabled rules of some kinds, for the organizations given (all when null). */
export async function enabledRules(db: SqlExecutor, kinds: readonly Condition['kind'][], organizationIds: readonly string[] | null): Promise<AlertRule[]> {
  return selectRules(db).where((eb) => eb.ref('r.enabled'))
    .where((eb) => eb(sql<string>`${eb.ref('r.condition')}->>'kind'`, '=', anyText(kinds)))
    .$if(organizationIds !== null, (query) => query.where('r.organizationId', '=', anyUuid(organizationIds!)))
    .execute();
}

/** Enabled script-check rules due now (never run, or their time has come), with the time each was read with. */
export async function dueCheckRules(db: SqlExecutor, limit: number): Promise<(AlertRule & { nextCheckAt: Date | null })[]> {
  return selectRules(db).select('r.nextCheckAt')
    .where((eb) => eb.and([
      eb.ref('r.enabled'), eb(sql<string>`${eb.ref('r.condition')}->>'kind'`, '=', sql.lit('script')),
      eb.or([eb('r.nextCheckAt', 'is', null), eb('r.nextCheckAt', '<=', sql<Date>`NOW()`)]),
    ]))
    .orderBy('r.nextCheckAt', (order) => order.nullsFirst()).limit(limit)
    .execute();
}

/** A script of the organization by id or name (case-insensitive), for a rule's script check; an id wins over a name. */
export async function scriptIdByRef(db: SqlExecutor, organizationId: string, ref: string): Promise<string> {
  const idIs = sql<boolean>`${sql.ref('id')}::text = ${ref}`;
  const row = await typed(db).selectFrom('scripts').select('id')
    .where('organizationId', '=', organizationId)
    .where((eb) => eb.or([idIs, eb(eb.fn('lower', ['name']), '=', eb.fn('lower', [eb.val(ref)]))]))
    .orderBy(idIs, 'desc').limit(1)
    .executeTakeFirst();
  if (!row) throw notFound(`Script "${ref.slice(0, 200)}"`);
  return row.id;
}

export async function setExclusion(db: SqlExecutor, organizationId: string, ruleId: string, deviceId: string, excluded: boolean): Promise<void> {
  await getRule(db, organizationId, ruleId);
  const device = await typed(db).selectFrom('devices').select(sql.lit(1).as('one'))
    .where('id', '=', deviceId).where('organizationId', '=', organizationId).executeTakeFirst();
  if (!device) throw notFound('Device');
  if (excluded) {
    await typed(db).insertInto('alertExclusions').values({ ruleId, deviceId }).onConflict((conflict) => conflict.doNothing()).execute();
  } else {
    await typed(db).deleteFrom('alertExclusions').where('ruleId', '=', ruleId).where('deviceId', '=', deviceId).execute();
  }
}
