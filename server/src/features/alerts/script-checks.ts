import type { RelationalStore } from '../../stores/relational/index.ts';
import type { Logger } from '../../platform/obs/logger.ts';
import { AppError } from '../../platform/errors.ts';
import type { EventPublisher } from '../events/index.ts';
import { resolveScopes } from '../fleet/index.ts';
import type { ScriptCondition } from './conditions.ts';
import { matchesOutput } from './check-pattern.ts';
import { dedupeKey, openAlert, resolveAlert } from './lifecycle.ts';
import { activeAlertId } from './lifecycle-repository.ts';
import { dueCheckRules, ruleById, type AlertRule } from './rules-repository.ts';
import {
  activeAlertsOfRule, advanceCheckRule, checkableDevices, claimCheck, dropCheck, finishedChecks, recordCheckOnAlert, setCheckCommand, settleCheck, type FinishedCheck,
} from './script-checks-repository.ts';

const BATCH = 200;
const RULES_PER_ROUND = 50;

/** One run of a rule's check script on one device. */
export interface CheckRequest {
  organizationId: string;
  scriptId: string;
  deviceId: string;
  ruleName: string;
  timeoutSec: number;
  /** A run the device has not picked up by then expires (and decides nothing): the next round sends another. */
  expiresInSec: number;
}

/**
 * What runs a check script on a device (the scripts feature's run path: one command to the
 * agent, recorded as a script run). Throws a typed error when it cannot run there (another OS,
 * no longer approved): that device is skipped this round.
 */
export type ScriptChecker = (request: CheckRequest) => Promise<{ commandId: string }>;

export interface ScriptCheckDeps {
  db: RelationalStore;
  events: EventPublisher;
  log: Logger;
  check: ScriptChecker;
}

/**
 * A finished run's verdict: true when the check fails (any of its tests holds), false when it
 * passes, null when the run decided nothing (expired before the device took it, or cancelled).
 * A run that timed out or never started (no exit code) fails.
 */
export function checkFails(condition: ScriptCondition, run: Pick<FinishedCheck, 'status' | 'exitCode' | 'output'>): boolean | null {
  if (run.status === 'expired' || run.status === 'cancelled') return null;
  if (run.exitCode === null) return true;
  if (condition.exit && (condition.exit.op === '!=' ? run.exitCode !== condition.exit.code : run.exitCode === condition.exit.code)) return true;
  if (condition.output) {
    const matched = matchesOutput(condition.output.pattern, condition.output.ignoreCase, run.output);
    if (matched === 'timeout') return true;
    if (condition.output.op === '~' ? matched : !matched) return true;
  }
  return false;
}

/** Judges finished checks: opens the device's alert when one fails, resolves it when one passes. */
async function settleFinished(deps: ScriptCheckDeps): Promise<{ opened: number; resolved: number }> {
  const { db, events } = deps;
  let opened = 0;
  let resolved = 0;
  const rules = new Map<string, AlertRule | null>();
  for (const run of await finishedChecks(db, BATCH)) {
    if (!rules.has(run.ruleId)) {
      rules.set(run.ruleId, await ruleById(db, run.ruleId));
    }
    const rule = rules.get(run.ruleId);
    // A rule turned off, or no longer a script check, since the run started: the run decides nothing.
    const fails = rule?.enabled && rule.condition.kind === 'script' ? checkFails(rule.condition, run) : null;
    await db.transaction(async (tx) => {
      // Settled by whoever deletes it: of two instances judging the same run, one acts.
      if (!(await settleCheck(tx, run.ruleId, run.deviceId, run.commandId)) || !rule || fails === null) return;
      const result = { exitCode: run.exitCode, output: run.output };
      const active = await activeAlertId(tx, dedupeKey(rule.id, run.deviceId, ''));
      if (fails) {
        const alertId = active ?? await openAlert(tx, events, rule, run.deviceId, '', run.exitCode);
        if (!active && alertId) opened++;
        if (alertId) await recordCheckOnAlert(tx, alertId, result);
      } else if (active) {
        await recordCheckOnAlert(tx, active, result);
        if (await resolveAlert(tx, events, active, null, rule.channelIds)) resolved++;
      }
    });
  }
  return { opened, resolved };
}

/** Starts the checks of every due rule on each device of its scope that has none in flight. */
async function startDue(deps: ScriptCheckDeps): Promise<{ started: number; resolved: number }> {
  const { db, log } = deps;
  let started = 0;
  let resolved = 0;
  for (const rule of await dueCheckRules(db, RULES_PER_ROUND)) {
    const condition = rule.condition as ScriptCondition;
    if (!(await advanceCheckRule(db, rule.id, rule.nextCheckAt, condition.everySec))) continue;
    let deviceIds = await checkableDevices(db, rule.organizationId, rule.excludedDeviceIds);
    if (rule.scopeKind !== 'organization' && deviceIds.length > 0) {
      const inScope = await resolveScopes(db, [rule], deviceIds);
      deviceIds = deviceIds.filter((deviceId) => inScope(rule, deviceId));
    }
    // A device that left the rule's scope (excluded, moved, decommissioned) is no longer checked: its alert resolves.
    const checked = new Set(deviceIds);
    const gone = (await activeAlertsOfRule(db, rule.id)).filter((alert) => !checked.has(alert.deviceId));
    if (gone.length > 0) {
      await db.transaction(async (tx) => {
        for (const alert of gone) if (await resolveAlert(tx, deps.events, alert.id, null, rule.channelIds)) resolved++;
      });
    }
    for (const deviceId of deviceIds) {
      if (!(await claimCheck(db, rule.id, deviceId))) continue;
      try {
        const { commandId } = await deps.check({
          organizationId: rule.organizationId, scriptId: condition.scriptId, deviceId, ruleName: rule.name,
          timeoutSec: condition.timeoutSec, expiresInSec: condition.everySec,
        });
        await setCheckCommand(db, rule.id, deviceId, commandId);
        started++;
      } catch (error) {
        await dropCheck(db, rule.id, deviceId);
        if (!(error instanceof AppError)) throw error;
        log.debug({ ruleId: rule.id, deviceId, err: error }, 'script check not started on this device');
      }
    }
  }
  return { started, resolved };
}

/**
 * Script-check conditions, on the scheduler under a lease: judges the runs that finished since
 * the last round, then starts the due ones. Opening and resolving go through the same lifecycle
 * as every other condition (one active alert per rule and device, flap suppression, maintenance
 * windows mute, one outbox row per channel in the transition's transaction).
 */
export async function runScriptChecks(deps: ScriptCheckDeps): Promise<{ started: number; opened: number; resolved: number }> {
  const settled = await settleFinished(deps);
  const { started, resolved } = await startDue(deps);
  return { started, opened: settled.opened, resolved: settled.resolved + resolved };
}
