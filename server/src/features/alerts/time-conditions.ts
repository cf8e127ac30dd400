import type { RelationalStore, SqlExecutor } from '../../stores/relational/index.ts';
import type { Condition } from './conditions.ts';
import { enabledRules, type AlertRule } from './rules-repository.ts';
import { openAlert, resolveAlert } from './lifecycle.ts';
import type { EventPublisher } from '../events/index.ts';
import { resolveScopes } from '../fleet/index.ts';
import { activeAlertsOfRule, agentVersions, droppingDevices, offlineDevices } from './time-conditions-repository.ts';

export interface TimeConditionDeps {
  db: RelationalStore;
  events: EventPublisher;
  /** Whether an agent version is older than the newest release this server offers (false when it offers none). */
  agentBehind(version: string): boolean;
}

type Breaching = Map<string, number | null>;

async function outdatedDevices(db: SqlExecutor, rule: AlertRule, agentBehind: (version: string) => boolean): Promise<Breaching> {
  const devices = await agentVersions(db, rule);
  return new Map(devices.filter((device) => agentBehind(device.version)).map((device) => [device.id, null]));
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
    const active = await activeAlertsOfRule(deps.db, rule.id);
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

