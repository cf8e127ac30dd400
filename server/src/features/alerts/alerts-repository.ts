import type { SqlExecutor } from '../../stores/relational/index.ts';
import { notFound } from '../../platform/errors.ts';
import type { Severity } from './conditions.ts';
import type { ConditionState } from './evaluator.ts';

export const ALERT_STATES = ['open', 'acknowledged', 'resolved'] as const;
export type AlertState = (typeof ALERT_STATES)[number];

export interface Alert {
  id: string;
  organizationId: string;
  ruleId: string;
  ruleName: string;
  deviceId: string;
  deviceName: string;
  subject: string;
  dedupeKey: string;
  state: AlertState;
  severity: Severity;
  title: string;
  value: number | null;
  muted: boolean;
  flapping: boolean;
  ticketId: string | null;
  openedAt: Date;
  acknowledgedAt: Date | null;
  acknowledgedBy: string | null;
  resolvedAt: Date | null;
  resolvedBy: string | null;
  /** 'auto' when the condition cleared, 'manual' when a person resolved it. */
  resolution: string | null;
  /** The rule's remediation script on this device: null (none), starting, running, succeeded or failed. */
  remediationState: string | null;
  remediationCommandId: string | null;
  remediationExitCode: number | null;
  remediationError: string | null;
  remediationAt: Date | null;
  /** A script check's latest result on this alert: its exit code (null: timed out or did not start), output excerpt, time. */
  checkExitCode: number | null;
  checkOutput: string | null;
  checkAt: Date | null;
}

export const ALERT_COLUMNS = `a.id, a.organization_id AS "organizationId", a.rule_id AS "ruleId", r.name AS "ruleName", a.device_id AS "deviceId",
  d.name AS "deviceName", a.subject, a.dedupe_key AS "dedupeKey", a.state, a.severity, a.title, a.value, a.muted, a.flapping,
  a.ticket_id AS "ticketId", a.opened_at AS "openedAt", a.acknowledged_at AS "acknowledgedAt", a.acknowledged_by AS "acknowledgedBy",
  a.resolved_at AS "resolvedAt", a.resolved_by AS "resolvedBy", a.resolution, a.remediation_state AS "remediationState",
  a.remediation_command_id AS "remediationCommandId", a.remediation_exit_code AS "remediationExitCode",
  a.remediation_error AS "remediationError", a.remediation_at AS "remediationAt", a.check_exit_code AS "checkExitCode",
  a.check_output AS "checkOutput", a.check_at AS "checkAt"`;
export const ALERT_FROM = 'alerts a JOIN alert_rules r ON r.id = a.rule_id JOIN devices d ON d.id = a.device_id';

export interface AlertFilter { state?: AlertState | undefined; deviceId?: string | undefined; severity?: Severity | undefined; limit: number }

/** Newest first; another organization's device is not found. */
export async function listAlerts(db: SqlExecutor, organizationId: string, filter: AlertFilter): Promise<Alert[]> {
  if (filter.deviceId) {
    const { rowCount } = await db.query('SELECT 1 FROM devices WHERE id = $1 AND organization_id = $2', [filter.deviceId, organizationId]);
    if (rowCount === 0) throw notFound('Device');
  }
  const { rows } = await db.query<Alert>(
    `SELECT ${ALERT_COLUMNS} FROM ${ALERT_FROM}
     WHERE a.organization_id = $1 AND ($2::text IS NULL OR a.state = $2) AND ($3::uuid IS NULL OR a.device_id = $3)
       AND ($4::text IS NULL OR a.severity = $4)
     ORDER BY a.opened_at DESC, a.id LIMIT $5`,
    [organizationId, filter.state ?? null, filter.deviceId ?? null, filter.severity ?? null, filter.limit],
  );
  return rows;
}

export async function getAlert(db: SqlExecutor, organizationId: string, id: string): Promise<Alert> {
  const { rows } = await db.query<Alert>(`SELECT ${ALERT_COLUMNS} FROM ${ALERT_FROM} WHERE a.id = $1 AND a.organization_id = $2`, [id, organizationId]);
  if (!rows[0]) throw notFound('Alert');
  return rows[0];
}

export interface AlertEvent { id: number; eventType: string; severity: string; actorId: string | null; createdAt: Date }

/** One alert's transitions, oldest first. */
export async function alertHistory(db: SqlExecutor, organizationId: string, alertId: string): Promise<AlertEvent[]> {
  await getAlert(db, organizationId, alertId);
  const { rows } = await db.query<AlertEvent>(
    `SELECT id::int, event_type AS "eventType", severity, actor_id AS "actorId", created_at AS "createdAt"
     FROM alert_event_log WHERE alert_id = $1 ORDER BY id`, [alertId]);
  return rows;
}

// ---- the evaluator's memory -------------------------------------------------------------------

export interface StoredState extends ConditionState { ruleId: string; deviceId: string; subject: string; lastLogId: number }

export const stateKey = (ruleId: string, deviceId: string, subject: string) => `${ruleId}:${deviceId}:${subject}`;

export async function loadStates(db: SqlExecutor, ruleIds: readonly string[], deviceIds: readonly string[]): Promise<Map<string, StoredState>> {
  const { rows } = await db.query<{ ruleId: string; deviceId: string; subject: string; breachingSince: Date | null; firing: boolean; lastCounter: number | null; lastAt: Date | null; lastLogId: string }>(
    `SELECT rule_id AS "ruleId", device_id AS "deviceId", subject, breaching_since AS "breachingSince", firing,
       last_counter AS "lastCounter", last_at AS "lastAt", last_log_id AS "lastLogId"
     FROM alert_condition_state WHERE rule_id = ANY($1::uuid[]) AND device_id = ANY($2::uuid[])`,
    [ruleIds, deviceIds],
  );
  return new Map(rows.map((row) => [stateKey(row.ruleId, row.deviceId, row.subject), {
    ruleId: row.ruleId, deviceId: row.deviceId, subject: row.subject, firing: row.firing, lastCounter: row.lastCounter,
    breachingSinceMs: row.breachingSince ? new Date(row.breachingSince).getTime() : null,
    lastAtMs: row.lastAt ? new Date(row.lastAt).getTime() : null,
    lastLogId: Number(row.lastLogId),
  }]));
}

/** States per statement: a batch of a few thousand samples under ten rules stays a handful of round trips. */
const STATES_PER_STATEMENT = 5_000;

/**
 * Stores each state unless a later log row already did, in as few statements as the batch
 * needs; returns the keys (stateKey) it stored. A key left out was a replay (a crash after the
 * commit, before the drainer's cursor moved), whose transitions must not run again.
 */
export async function saveStates(tx: SqlExecutor, states: readonly StoredState[]): Promise<Set<string>> {
  const stored = new Set<string>();
  for (let from = 0; from < states.length; from += STATES_PER_STATEMENT) {
    const slice = states.slice(from, from + STATES_PER_STATEMENT);
    const { rows } = await tx.query<{ ruleId: string; deviceId: string; subject: string }>(
      `INSERT INTO alert_condition_state (rule_id, device_id, subject, breaching_since, firing, last_counter, last_at, last_log_id)
       SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::timestamptz[], $5::boolean[], $6::float8[], $7::timestamptz[], $8::bigint[])
       ON CONFLICT (rule_id, device_id, subject) DO UPDATE SET breaching_since = EXCLUDED.breaching_since, firing = EXCLUDED.firing,
         last_counter = EXCLUDED.last_counter, last_at = EXCLUDED.last_at, last_log_id = EXCLUDED.last_log_id
       WHERE alert_condition_state.last_log_id < EXCLUDED.last_log_id
       RETURNING rule_id AS "ruleId", device_id AS "deviceId", subject`,
      [slice.map((s) => s.ruleId), slice.map((s) => s.deviceId), slice.map((s) => s.subject), slice.map((s) => msDate(s.breachingSinceMs)),
        slice.map((s) => s.firing), slice.map((s) => s.lastCounter), slice.map((s) => msDate(s.lastAtMs)), slice.map((s) => s.lastLogId)],
    );
    for (const row of rows) stored.add(stateKey(row.ruleId, row.deviceId, row.subject));
  }
  return stored;
}

const msDate = (ms: number | null) => (ms === null ? null : new Date(ms));

// ---- actions: tickets -------------------------------------------------------------------------

export interface TicketDue { id: string; organizationId: string; deviceId: string; title: string; severity: Severity }

/** Active alerts whose rule opens a ticket and that have none yet (muted and flapping ones do not). */
export async function alertsNeedingTickets(db: SqlExecutor, limit: number): Promise<TicketDue[]> {
  const { rows } = await db.query<TicketDue>(
    `SELECT a.id, a.organization_id AS "organizationId", a.device_id AS "deviceId", a.title, a.severity
     FROM alerts a JOIN alert_rules r ON r.id = a.rule_id
     WHERE r.open_ticket AND a.state <> 'resolved' AND a.ticket_id IS NULL AND NOT a.muted AND NOT a.flapping
     ORDER BY a.opened_at LIMIT $1`, [limit]);
  return rows;
}

/** Links a ticket to an alert unless another run linked one first; returns whether it did. */
export async function linkTicket(db: SqlExecutor, alertId: string, ticketId: string): Promise<boolean> {
  const { rowCount } = await db.query('UPDATE alerts SET ticket_id = $2 WHERE id = $1 AND ticket_id IS NULL', [alertId, ticketId]);
  return rowCount > 0;
}

/** Resolved alerts whose linked ticket the rule closes on resolve, not yet closed. */
export async function ticketsToClose(db: SqlExecutor, limit: number): Promise<{ id: string; organizationId: string; ticketId: string }[]> {
  const { rows } = await db.query<{ id: string; organizationId: string; ticketId: string }>(
    `SELECT a.id, a.organization_id AS "organizationId", a.ticket_id AS "ticketId" FROM alerts a JOIN alert_rules r ON r.id = a.rule_id
     WHERE a.state = 'resolved' AND a.ticket_id IS NOT NULL AND NOT a.ticket_closed AND r.close_ticket_on_resolve
     ORDER BY a.resolved_at LIMIT $1`, [limit]);
  return rows;
}

export async function markTicketClosed(db: SqlExecutor, alertId: string): Promise<void> {
  await db.query('UPDATE alerts SET ticket_closed = TRUE WHERE id = $1', [alertId]);
}

// ---- history for ClickHouse -------------------------------------------------------------------

export interface LoggedAlertEvent { id: string; alertId: string; organizationId: string; deviceId: string; ruleId: string; eventType: string; severity: string; actorId: string | null; at: Date }

/** Events after the ETL's cursor, older than `settleSec` (lower ids may still be committing). */
export async function alertEventsAfter(db: SqlExecutor, settleSec: number, limit: number): Promise<{ position: string; rows: LoggedAlertEvent[] }> {
  await db.query("INSERT INTO analytics_cursors (name) VALUES ('alert_events') ON CONFLICT (name) DO NOTHING");
  const { position } = (await db.query<{ position: string }>("SELECT position FROM analytics_cursors WHERE name = 'alert_events'")).rows[0]!;
  const { rows } = await db.query<LoggedAlertEvent>(
    `SELECT id, alert_id AS "alertId", organization_id AS "organizationId", device_id AS "deviceId", rule_id AS "ruleId",
       event_type AS "eventType", severity, actor_id AS "actorId", created_at AS at
     FROM alert_event_log WHERE id > $1 AND created_at < NOW() - make_interval(secs => $2) ORDER BY id LIMIT $3`,
    [position, settleSec, limit]);
  return { position, rows };
}

export async function advanceAlertEventCursor(db: SqlExecutor, position: string): Promise<void> {
  await db.query("UPDATE analytics_cursors SET position = $1, updated_at = NOW() WHERE name = 'alert_events'", [position]);
}

// ---- actions: remediation ---------------------------------------------------------------------

export interface RemediationDue { id: string; organizationId: string; deviceId: string; scriptId: string; ruleName: string; title: string }

/** The label a remediation command carries: how a claim interrupted by a crash finds the command it may have started. */
export const remediationLabel = (alertId: string) => `remediation of alert ${alertId}`;

/**
 * Active alerts whose rule names a remediation script and that have not had it yet (muted and
 * flapping ones do not), and claims left `starting` by a server that stopped mid-way.
 */
export async function alertsNeedingRemediation(db: SqlExecutor, limit: number, staleSec: number): Promise<(RemediationDue & { stale: boolean })[]> {
  const { rows } = await db.query<RemediationDue & { stale: boolean }>(
    `SELECT a.id, a.organization_id AS "organizationId", a.device_id AS "deviceId", r.remediation_script_id AS "scriptId",
       r.name AS "ruleName", a.title, a.remediation_state IS NOT NULL AS stale
     FROM alerts a JOIN alert_rules r ON r.id = a.rule_id
     WHERE r.remediation_script_id IS NOT NULL AND (
       (a.remediation_state IS NULL AND a.state <> 'resolved' AND NOT a.muted AND NOT a.flapping)
       OR (a.remediation_state = 'starting' AND a.remediation_at < NOW() - make_interval(secs => $2)))
     ORDER BY a.opened_at LIMIT $1`,
    [limit, staleSec],
  );
  return rows;
}

/** Claims an alert's remediation (null → starting, or a stale starting claim renewed); true for the one caller that gets it. */
export async function claimRemediation(db: SqlExecutor, alertId: string, stale: boolean): Promise<boolean> {
  const { rowCount } = await db.query(
    stale
      ? `UPDATE alerts SET remediation_at = NOW() WHERE id = $1 AND remediation_state = 'starting'`
      : `UPDATE alerts SET remediation_state = 'starting', remediation_at = NOW() WHERE id = $1 AND remediation_state IS NULL`,
    [alertId],
  );
  return rowCount > 0;
}

/** The command an interrupted claim already started, if any (found by its label). */
export async function remediationCommandOf(db: SqlExecutor, alertId: string): Promise<string | null> {
  const { rows } = await db.query<{ id: string }>(
    'SELECT id FROM commands WHERE requested_by_label = $1 ORDER BY created_at LIMIT 1', [remediationLabel(alertId)]);
  return rows[0]?.id ?? null;
}

export async function markRemediation(
  db: SqlExecutor, alertId: string,
  fields: { state: 'running' | 'succeeded' | 'failed'; commandId?: string | null; exitCode?: number | null; error?: string | null },
): Promise<void> {
  await db.query(
    `UPDATE alerts SET remediation_state = $2, remediation_command_id = COALESCE($3::uuid, remediation_command_id),
       remediation_exit_code = $4, remediation_error = $5, remediation_at = NOW() WHERE id = $1`,
    [alertId, fields.state, fields.commandId ?? null, fields.exitCode ?? null, fields.error?.slice(0, 2000) ?? null],
  );
}

/** Running remediations whose command has finished, with its outcome. */
export async function finishedRemediations(db: SqlExecutor, limit: number) {
  const { rows } = await db.query<{ id: string; status: string; exitCode: number | null; error: string | null }>(
    `SELECT a.id, c.status, c.exit_code AS "exitCode", c.error FROM alerts a JOIN commands c ON c.id = a.remediation_command_id
     WHERE a.remediation_state = 'running' AND c.status IN ('succeeded', 'failed', 'timed_out', 'cancelled', 'expired')
     LIMIT $1`,
    [limit],
  );
  return rows;
}
