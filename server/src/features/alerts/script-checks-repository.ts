import type { SqlExecutor } from '../../stores/relational/index.ts';
import { MAX_CHECK_OUTPUT } from './check-pattern.ts';

/** A claim older than this with no command was left by a server that stopped before starting the script. */
const STALE_CLAIM_SEC = 120;

/**
 * Moves a script-check rule to its next time, only if it still has the time it was read with
 * (null: never run, or its condition just changed): of two instances that read it due, one runs it.
 */
export async function advanceCheckRule(db: SqlExecutor, ruleId: string, dueAt: Date | null, everySec: number): Promise<boolean> {
  const { rowCount } = await db.query(
    // Compared at millisecond precision: that is what a JavaScript Date read back holds.
    `UPDATE alert_rules SET next_check_at = NOW() + make_interval(secs => $3)
     WHERE id = $1 AND enabled AND (($2::timestamptz IS NULL AND next_check_at IS NULL)
       OR date_trunc('milliseconds', next_check_at) = date_trunc('milliseconds', $2::timestamptz))`,
    [ruleId, dueAt, everySec]);
  return rowCount > 0;
}

/** The rule's enrolled, approved devices (not excluded) that it may check; the scope is applied by the caller. */
export async function checkableDevices(db: SqlExecutor, organizationId: string, excluded: readonly string[]): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM devices WHERE organization_id = $1 AND decommissioned_at IS NULL AND approval_state = 'approved'
       AND NOT (id = ANY($2::uuid[])) ORDER BY id`, [organizationId, excluded]);
  return rows.map((row) => row.id);
}

/**
 * Claims the next check of a rule on a device: one in flight per rule and device, so a device
 * that does not answer is not sent a pile of them. Clears a claim a crash left without a command.
 */
export async function claimCheck(db: SqlExecutor, ruleId: string, deviceId: string): Promise<boolean> {
  await db.query(
    `DELETE FROM alert_script_checks WHERE rule_id = $1 AND device_id = $2 AND command_id IS NULL
       AND started_at < NOW() - make_interval(secs => $3)`, [ruleId, deviceId, STALE_CLAIM_SEC]);
  const { rowCount } = await db.query(
    'INSERT INTO alert_script_checks (rule_id, device_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [ruleId, deviceId]);
  return rowCount > 0;
}

export async function setCheckCommand(db: SqlExecutor, ruleId: string, deviceId: string, commandId: string): Promise<void> {
  await db.query('UPDATE alert_script_checks SET command_id = $3 WHERE rule_id = $1 AND device_id = $2', [ruleId, deviceId, commandId]);
}

export async function dropCheck(db: SqlExecutor, ruleId: string, deviceId: string): Promise<void> {
  await db.query('DELETE FROM alert_script_checks WHERE rule_id = $1 AND device_id = $2', [ruleId, deviceId]);
}

export interface FinishedCheck {
  ruleId: string;
  deviceId: string;
  commandId: string;
  status: string;
  exitCode: number | null;
  error: string | null;
  /** stdout and stderr in the order the device sent them, at most MAX_CHECK_OUTPUT characters. */
  output: string;
}

/** Checks whose command reached a final state, with its outcome and (bounded) output. */
export async function finishedChecks(db: SqlExecutor, limit: number): Promise<FinishedCheck[]> {
  const { rows } = await db.query<FinishedCheck>(
    `SELECT k.rule_id AS "ruleId", k.device_id AS "deviceId", k.command_id AS "commandId", c.status, c.exit_code AS "exitCode", c.error,
       left(COALESCE((SELECT string_agg(o.data, '' ORDER BY o.seq) FROM (
         SELECT seq, data FROM command_output WHERE command_id = c.id ORDER BY seq LIMIT 256) o), ''), $2) AS output
     FROM alert_script_checks k JOIN commands c ON c.id = k.command_id
     WHERE c.status IN ('succeeded', 'failed', 'timed_out', 'cancelled', 'expired')
     ORDER BY k.started_at LIMIT $1`, [limit, MAX_CHECK_OUTPUT]);
  return rows;
}

/** Takes a finished check off the in-flight list; false when another instance settled it first. */
export async function settleCheck(db: SqlExecutor, ruleId: string, deviceId: string, commandId: string): Promise<boolean> {
  const { rowCount } = await db.query(
    'DELETE FROM alert_script_checks WHERE rule_id = $1 AND device_id = $2 AND command_id = $3', [ruleId, deviceId, commandId]);
  return rowCount > 0;
}

/** The latest check's result on its alert: exit code, output excerpt, when. */
export async function recordCheckOnAlert(db: SqlExecutor, alertId: string, result: { exitCode: number | null; output: string }): Promise<void> {
  await db.query('UPDATE alerts SET check_exit_code = $2, check_output = $3, check_at = NOW() WHERE id = $1',
    [alertId, result.exitCode, result.output.slice(0, 4_000)]);
}

/** The rule's active alerts, by device. */
export async function activeAlertsOfRule(db: SqlExecutor, ruleId: string): Promise<{ id: string; deviceId: string }[]> {
  const { rows } = await db.query<{ id: string; deviceId: string }>(
    "SELECT id, device_id AS \"deviceId\" FROM alerts WHERE rule_id = $1 AND state <> 'resolved'", [ruleId]);
  return rows;
}
