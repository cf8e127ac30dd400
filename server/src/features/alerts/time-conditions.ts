import type { RelationalStore, SqlExecutor } from '../../stores/relational/index.ts';
import type { Condition } from './conditions.ts';
import { enabledRules, type AlertRule } from './rules-repository.ts';
import { openAlert, resolveAlert } from './lifecycle.ts';
import type { EventPublisher } from '../events/index.ts';
import { resolveScopes } from '../fleet/index.ts';

export interface TimeConditionDeps {
  db: RelationalStore;
  events: EventPublisher;
  /** Whether an agent version is older than the newest release this server offers (false when it offers none). */
  agentBehind(version: string): boolean;
}

type Breaching = Map<string, number | null>;

/** Devices of the rule's organization (not excluded, not decommissioned) offline for longer than the rule says. */
async function offlineDevices(db: SqlExecutor, rule: AlertRule, forSec: number): Promise<Breaching> {
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
async function droppingDevices(db: SqlExecutor, rule: AlertRule, forSec: number): Promise<Breaching> {
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

async function outdatedDevices(db: SqlExecutor, rule: AlertRule, agentBehind: (version: string) => boolean): Promise<Breaching> {
  const { rows } = await db.query<{ id: string; version: string }>(
    `SELECT id, agent_version AS version FROM devices WHERE organization_id = $1 AND decommissioned_at IS NULL
       AND agent_version IS NOT NULL AND NOT (id = ANY($2::uuid[]))`, [rule.organizationId, rule.excludedDeviceIds]);
  return new Map(rows.filter((row) => agentBehind(row.version)).map((row) => [row.id, null]));
}

function unscopedBreaching(deps: TimeConditionDeps, rule: AlertRule): Promise<Breaching> {
  const condition = rule.condition as Exclude<Condition, { kind: 'metric' | 'script' }>;
  switch (condition.kind) {
    case 'offline': return offlineDevices(deps.db, rule, condition.forSec);
    case 'dropping': return droppingDevices(deps.db, rule, condition.forSec);
    case 'version_behind': return outdatedDevices(deps.db, rule, deps.agentBehind);
  }
}

/** The breaching devices inside the rule's site, group or tag; one leaving the scope resolves its alert. */
async function breachingDevices(deps: TimeConditionDeps, rule: AlertRule): Promise<Breaching> {
  const breaching = await unscopedBreaching(deps, rule);
  if (rule.scopeKind === 'organization' || breaching.size === 0) return breaching;
  const inScope = await resolveScopes(deps.db, [rule], [...breaching.keys()]);
  return new Map([...breaching].filter(([deviceId]) => inScope(rule, deviceId)));
}

/**
 * Time-based conditions, on the scheduler under a lease: for each rule, opens an alert for every
 * device that now breaches and resolves the active ones that no longer do. Opening is keyed like
 * metric alerts (one active alert per rule and device), so a second run changes nothing.
 */
export async function evaluateTimeConditions(deps: TimeConditionDeps): Promise<{ opened: number; resolved: number }> {
  const rules = await enabledRules(deps.db, ['offline', 'dropping', 'version_behind'], null);
  let opened = 0;
  let resolved = 0;
  for (const rule of rules) {
    const breaching = await breachingDevices(deps, rule);
    const { rows: active } = await deps.db.query<{ id: string; deviceId: string }>(
      `SELECT id, device_id AS "deviceId" FROM alerts WHERE rule_id = $1 AND state <> 'resolved'`, [rule.id]);
    const activeDevices = new Set(active.map((row) => row.deviceId));
    await deps.db.transaction(async (tx) => {
      for (const [deviceId, value] of breaching) {
        if (!activeDevices.has(deviceId) && (await openAlert(tx, deps.events, rule, deviceId, '', value))) opened++;
      }
      for (const alert of active) {
        if (!breaching.has(alert.deviceId) && (await resolveAlert(tx, deps.events, alert.id, null, rule.channelIds))) resolved++;
      }
    });
  }
  return { opened, resolved };
}

