import type { SqlExecutor } from '../../stores/relational/index.ts';
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

const RULE_COLUMNS = `r.id, r.organization_id AS "organizationId", r.name, r.scope_kind AS "scopeKind", r.scope_value AS "scopeValue",
  r.condition, r.severity, r.channel_ids::text[] AS "channelIds", r.open_ticket AS "openTicket",
  r.close_ticket_on_resolve AS "closeTicketOnResolve", r.enabled, r.remediation_script_id AS "remediationScriptId", r.created_at AS "createdAt", r.updated_at AS "updatedAt",
  COALESCE((SELECT array_agg(e.device_id::text) FROM alert_exclusions e WHERE e.rule_id = r.id), '{}') AS "excludedDeviceIds"`;

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
  const { rowCount } = await db.query('SELECT 1 FROM scripts WHERE id = $1 AND organization_id = $2', [scriptId, organizationId]);
  if (rowCount === 0) throw notFound('Script');
}

/** Exclusions name the organization's devices only: another organization's device is not found. Checked before any write. */
async function assertOwnDevices(db: SqlExecutor, organizationId: string, deviceIds: readonly string[] | undefined) {
  const unique = [...new Set(deviceIds ?? [])];
  if (unique.length === 0) return;
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM devices WHERE organization_id = $1 AND id = ANY($2::uuid[])', [organizationId, unique]);
  if (rows[0]!.n !== unique.length) throw notFound('Device');
}

async function replaceExclusions(db: SqlExecutor, ruleId: string, deviceIds: readonly string[]) {
  const unique = [...new Set(deviceIds)];
  await db.query('DELETE FROM alert_exclusions WHERE rule_id = $1', [ruleId]);
  if (unique.length > 0) await db.query('INSERT INTO alert_exclusions (rule_id, device_id) SELECT $1, unnest($2::uuid[])', [ruleId, unique]);
}

/** Channels must be the organization's own: another organization's channel is not found. */
async function assertChannels(db: SqlExecutor, organizationId: string, channelIds: readonly string[]) {
  if (channelIds.length === 0) return;
  const { rows } = await db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM notification_channels WHERE organization_id = $1 AND id = ANY($2::uuid[])', [organizationId, [...new Set(channelIds)]]);
  if (rows[0]!.n !== new Set(channelIds).size) throw notFound('Channel');
}

export async function createRule(db: SqlExecutor, organizationId: string, input: RuleInput): Promise<AlertRule> {
  await assertChannels(db, organizationId, input.channelIds);
  const scope = await checkScope(db, organizationId, input.scope?.kind ?? 'organization', input.scope?.id ?? null);
  await assertOwnDevices(db, organizationId, input.excludedDeviceIds);
  await assertScript(db, organizationId, input.remediationScriptId);
  if (input.condition.kind === 'script') await assertScript(db, organizationId, input.condition.scriptId);
  try {
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO alert_rules (organization_id, name, condition, severity, channel_ids, open_ticket, close_ticket_on_resolve, enabled, scope_kind, scope_value,
         remediation_script_id)
       VALUES ($1, $2, $3, $4, $5::uuid[], $6, $7, $8, $9, $10, $11) RETURNING id`,
      [organizationId, input.name, JSON.stringify(input.condition), input.severity, [...new Set(input.channelIds)], input.openTicket, input.closeTicketOnResolve, input.enabled,
        scope.scopeKind, scope.scopeValue, input.remediationScriptId ?? null],
    );
    if (input.excludedDeviceIds?.length) await replaceExclusions(db, rows[0]!.id, input.excludedDeviceIds);
    return getRule(db, organizationId, rows[0]!.id);
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
    await db.query(
      `UPDATE alert_rules SET name = $3, condition = $4, severity = $5, channel_ids = $6::uuid[], open_ticket = $7,
         close_ticket_on_resolve = $8, enabled = $9, scope_kind = $10, scope_value = $11, remediation_script_id = $12,
         updated_at = NOW() WHERE id = $1 AND organization_id = $2`,
      [id, organizationId, next.name, JSON.stringify(next.condition), next.severity, [...new Set(next.channelIds)], next.openTicket, next.closeTicketOnResolve, next.enabled,
        scope.scopeKind, scope.scopeValue, next.remediationScriptId ?? null],
    );
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError('CONFLICT', `A rule named "${next.name}" already exists`);
    throw error;
  }
  if (changes.condition) {
    await db.query('UPDATE alert_condition_state SET breaching_since = NULL WHERE rule_id = $1', [id]);
    // A script check with a new condition runs again at once rather than at its old time.
    await db.query('UPDATE alert_rules SET next_check_at = NULL WHERE id = $1', [id]);
  }
  if (changes.excludedDeviceIds) await replaceExclusions(db, id, changes.excludedDeviceIds);
  return getRule(db, organizationId, id);
}

export async function getRule(db: SqlExecutor, organizationId: string, id: string): Promise<AlertRule> {
  const { rows } = await db.query<AlertRule>(`SELECT ${RULE_COLUMNS} FROM alert_rules r WHERE r.id = $1 AND r.organization_id = $2`, [id, organizationId]);
  if (!rows[0]) throw notFound('Rule');
  return rows[0];
}

/** A rule by id or by name (the CLI names them). */
export async function findRule(db: SqlExecutor, organizationId: string, ref: string): Promise<AlertRule> {
  const { rows } = await db.query<AlertRule>(
    `SELECT ${RULE_COLUMNS} FROM alert_rules r WHERE r.organization_id = $1 AND (r.id::text = $2 OR r.name = $2) LIMIT 1`, [organizationId, ref]);
  if (!rows[0]) throw notFound(`Rule "${ref}"`);
  return rows[0];
}

export async function listRules(db: SqlExecutor, organizationId: string): Promise<AlertRule[]> {
  const { rows } = await db.query<AlertRule>(`SELECT ${RULE_COLUMNS} FROM alert_rules r WHERE r.organization_id = $1 ORDER BY r.name`, [organizationId]);
  return rows;
}

/** Deleting a rule deletes its alerts and state (cascade); their events stay in alert_event_log and ClickHouse. */
export async function deleteRule(db: SqlExecutor, organizationId: string, id: string): Promise<void> {
  const { rowCount } = await db.query('DELETE FROM alert_rules WHERE id = $1 AND organization_id = $2', [id, organizationId]);
  if (rowCount === 0) throw notFound('Rule');
}

/** Enabled rules of some kinds, for the organizations given (all when null). */
export async function enabledRules(db: SqlExecutor, kinds: readonly Condition['kind'][], organizationIds: readonly string[] | null): Promise<AlertRule[]> {
  const { rows } = await db.query<AlertRule>(
    `SELECT ${RULE_COLUMNS} FROM alert_rules r WHERE r.enabled AND r.condition->>'kind' = ANY($1::text[])
       AND ($2::uuid[] IS NULL OR r.organization_id = ANY($2::uuid[]))`,
    [kinds, organizationIds],
  );
  return rows;
}

/** Enabled script-check rules due now (never run, or their time has come), with the time each was read with. */
export async function dueCheckRules(db: SqlExecutor, limit: number): Promise<(AlertRule & { nextCheckAt: Date | null })[]> {
  const { rows } = await db.query<AlertRule & { nextCheckAt: Date | null }>(
    `SELECT ${RULE_COLUMNS}, r.next_check_at AS "nextCheckAt" FROM alert_rules r
     WHERE r.enabled AND r.condition->>'kind' = 'script' AND (r.next_check_at IS NULL OR r.next_check_at <= NOW())
     ORDER BY r.next_check_at NULLS FIRST LIMIT $1`, [limit]);
  return rows;
}

/** A script of the organization by id or name (case-insensitive), for a rule's script check. */
export async function scriptIdByRef(db: SqlExecutor, organizationId: string, ref: string): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM scripts WHERE organization_id = $1 AND (id::text = $2 OR lower(name) = lower($2)) ORDER BY (id::text = $2) DESC LIMIT 1`,
    [organizationId, ref]);
  if (!rows[0]) throw notFound(`Script "${ref.slice(0, 200)}"`);
  return rows[0].id;
}

export async function setExclusion(db: SqlExecutor, organizationId: string, ruleId: string, deviceId: string, excluded: boolean): Promise<void> {
  await getRule(db, organizationId, ruleId);
  const { rowCount } = await db.query('SELECT 1 FROM devices WHERE id = $1 AND organization_id = $2', [deviceId, organizationId]);
  if (rowCount === 0) throw notFound('Device');
  if (excluded) await db.query('INSERT INTO alert_exclusions (rule_id, device_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [ruleId, deviceId]);
  else await db.query('DELETE FROM alert_exclusions WHERE rule_id = $1 AND device_id = $2', [ruleId, deviceId]);
}
