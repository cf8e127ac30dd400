import type { SqlExecutor } from '../../stores/relational/index.ts';

/** The rule fields the time-condition queries read. */
interface RuleScope { id: string; organizationId: string; excludedDeviceIds: readonly string[] }

/** Devices of the rule's organization (not excluded, not decommissioned) offline for longer than `forSec`, with their minutes offline. */
export async function offlineDevices(db: SqlExecutor, rule: RuleScope, forSec: number): Promise<Map<string, number>> {
  const { rows } = await db.query<{ id: string; minutes: number }>(
    `SELECT d.id, floor(extract(epoch FROM NOW() - d.last_seen) / 60)::int AS minutes FROM devices d
     WHERE d.organization_id = $1 AND d.decommissioned_at IS NULL AND d.status = 'offline'
       AND d.last_seen < NOW() - make_interval(secs => $2) AND NOT (d.id = ANY($3::uuid[]))`,
    [rule.organizationId, forSec, rule.excludedDeviceIds]);
  return new Map(rows.map((row) => [row.id, row.minutes]));
}

/**
 * Devices whose agent dropped buffered samples lately: the drop counter (from heartbeats) grew
 * within `forSec`. The last counter seen is kept in alert_condition_state; the first reading is
 * the baseline, so drops from before the rule existed raise nothing.
 */
export async function droppingDevices(db: SqlExecutor, rule: RuleScope, forSec: number): Promise<Map<string, number>> {
  await db.query(
    `INSERT INTO alert_condition_state (rule_id, device_id, subject, last_counter, last_at)
     SELECT $1, d.id, '', d.dropped_total, NULL::timestamptz FROM devices d
     WHERE d.organization_id = $2 AND d.decommissioned_at IS NULL
     ON CONFLICT (rule_id, device_id, subject) DO UPDATE SET last_counter = EXCLUDED.last_counter, last_at = NOW()
     WHERE alert_condition_state.last_counter IS DISTINCT FROM EXCLUDED.last_counter`,
    [rule.id, rule.organizationId]);
  const { rows } = await db.query<{ id: string; dropped: number }>(
    `SELECT s.device_id AS id, s.last_counter AS dropped FROM alert_condition_state s
     WHERE s.rule_id = $1 AND s.last_at > NOW() - make_interval(secs => $2) AND NOT (s.device_id = ANY($3::uuid[]))`,
    [rule.id, forSec, rule.excludedDeviceIds]);
  return new Map(rows.map((row) => [row.id, Number(row.dropped)]));
}

/** The agent version of every live device of the rule's organization that reported one (not excluded). */
export async function agentVersions(db: SqlExecutor, rule: RuleScope): Promise<{ id: string; version: string }[]> {
  const { rows } = await db.query<{ id: string; version: string }>(
    `SELECT id, agent_version AS version FROM devices WHERE organization_id = $1 AND decommissioned_at IS NULL
       AND agent_version IS NOT NULL AND NOT (id = ANY($2::uuid[]))`, [rule.organizationId, rule.excludedDeviceIds]);
  return rows;
}

/** The rule's alerts not yet resolved, by device. */
export async function activeAlertsOfRule(db: SqlExecutor, ruleId: string): Promise<{ id: string; deviceId: string }[]> {
  const { rows } = await db.query<{ id: string; device_id: string }>(`SELECT id, device_id FROM alerts WHERE rule_id = $1 AND state <> 'resolved'`, [ruleId]);
  return rows.map((row) => ({ id: row.id, deviceId: row.device_id }));
}
