import { sql } from 'kysely';
import { anyUuid, secondsAgo, typed, type SqlExecutor } from '../../stores/relational/index.ts';
import { notFound } from '../../platform/errors.ts';
import type { Severity } from './conditions.ts';
import type { ConditionState } from './evaluator.ts';

/**
 * Every query of alerts, the evaluator's per-device memory, the alert event log's cursor and the
 * alert actions (tickets, remediation). Typed with Kysely, with `sql` fragments only where
 * PostgreSQL says it better (intervals, unnest, NOW()). Each function is one statement unless said.
 */

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

const ALERT_OWN_COLUMNS = [
  'id', 'organizationId', 'ruleId', 'deviceId', 'subject', 'dedupeKey', 'state', 'severity', 'title', 'value', 'muted', 'flapping',
  'ticketId', 'openedAt', 'acknowledgedAt', 'acknowledgedBy', 'resolvedAt', 'resolvedBy', 'resolution', 'remediationState',
  'remediationCommandId', 'remediationExitCode', 'remediationError', 'remediationAt', 'checkExitCode', 'checkOutput', 'checkAt',
] as const;

/** What the schema leaves wider than the rows are: values the code writes. */
type AlertNarrowing = { state: AlertState; severity: Severity };

/** Commands in one of these states have finished: their outcome is final. */
const FINAL_COMMAND_STATUSES = ['succeeded', 'failed', 'timed_out', 'cancelled', 'expired'].map((status) => sql.lit(status));

/** The database's now minus some seconds: time is the database's, like NOW() in the writes. */

/** Alerts with their rule's and device's names; the caller adds the filters. */
function selectAlerts(db: SqlExecutor) {
  return typed(db).selectFrom('alerts as a')
    .innerJoin('alertRules as r', 'r.id', 'a.ruleId')
    .innerJoin('devices as d', 'd.id', 'a.deviceId')
    .select([...ALERT_OWN_COLUMNS.map((column) => `a.${column}` as const), 'r.name as ruleName', 'd.name as deviceName'])
    .$narrowType<AlertNarrowing>();
}

/** Whether the device is the organization's (retired ones too: their alerts stay listed). */
async function isOrganizationDevice(db: SqlExecutor, organizationId: string, deviceId: string): Promise<boolean> {
  const row = await typed(db).selectFrom('devices').select(sql.lit(1).as('one'))
    .where('id', '=', deviceId).where('organizationId', '=', organizationId).executeTakeFirst();
  return row !== undefined;
}

export interface AlertFilter { state?: AlertState | undefined; deviceId?: string | undefined; severity?: Severity | undefined; limit: number }

/** Newest first; another organization's device is not found. */
export async function listAlerts(db: SqlExecutor, organizationId: string, filter: AlertFilter): Promise<Alert[]> {
  const { state, deviceId, severity } = filter;
  if (deviceId && !(await isOrganizationDevice(db, organizationId, deviceId))) throw notFound('Device');
  return selectAlerts(db).where('a.organizationId', '=', organizationId)
    .$if(state !== undefined, (query) => query.where('a.state', '=', state!))
    .$if(!!deviceId, (query) => query.where('a.deviceId', '=', deviceId!))
    .$if(severity !== undefined, (query) => query.where('a.severity', '=', severity!))
    .orderBy('a.openedAt', 'desc').orderBy('a.id').limit(filter.limit)
    .execute();
}

export async function getAlert(db: SqlExecutor, organizationId: string, id: string): Promise<Alert> {
  const row = await selectAlerts(db).where('a.id', '=', id).where('a.organizationId', '=', organizationId).executeTakeFirst();
  if (!row) throw notFound('Alert');
  return row;
}

/** An alert whatever its organization, for the transitions that already hold it (read back after a write). */
export async function readAlert(db: SqlExecutor, id: string): Promise<Alert> {
  return selectAlerts(db).where('a.id', '=', id).executeTakeFirstOrThrow();
}

export interface AlertEvent { id: number; eventType: string; severity: string; actorId: string | null; createdAt: Date }

/** One alert's transitions, oldest first. */
export async function alertHistory(db: SqlExecutor, organizationId: string, alertId: string): Promise<AlertEvent[]> {
  await getAlert(db, organizationId, alertId);
  return typed(db).selectFrom('alertEventLog').select(['id', 'eventType', 'severity', 'actorId', 'createdAt'])
    .where('alertId', '=', alertId).orderBy('id').execute();
}

// ---- the evaluator's memory -------------------------------------------------------------------

export interface StoredState extends ConditionState { ruleId: string; deviceId: string; subject: string; lastLogId: number }

export const stateKey = (ruleId: string, deviceId: string, subject: string) => `${ruleId}:${deviceId}:${subject}`;

export async function loadStates(db: SqlExecutor, ruleIds: readonly string[], deviceIds: readonly string[]): Promise<Map<string, StoredState>> {
  const rows = await typed(db).selectFrom('alertConditionState')
    .select(['ruleId', 'deviceId', 'subject', 'breachingSince', 'firing', 'lastCounter', 'lastAt', 'lastLogId'])
    .where('ruleId', '=', anyUuid(ruleIds)).where('deviceId', '=', anyUuid(deviceIds))
    .execute();
  return new Map(rows.map((row) => [stateKey(row.ruleId, row.deviceId, row.subject), {
    ruleId: row.ruleId, deviceId: row.deviceId, subject: row.subject, firing: row.firing, lastCounter: row.lastCounter,
    breachingSinceMs: row.breachingSince ? row.breachingSince.getTime() : null,
    lastAtMs: row.lastAt ? row.lastAt.getTime() : null,
    lastLogId: row.lastLogId,
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
    // One array parameter per column, however many states: the statement's size does not grow with the batch.
    const rows = await typed(tx).insertInto('alertConditionState')
      .columns(['ruleId', 'deviceId', 'subject', 'breachingSince', 'firing', 'lastCounter', 'lastAt', 'lastLogId'])
      .expression(sql`SELECT * FROM unnest(${slice.map((s) => s.ruleId)}::uuid[], ${slice.map((s) => s.deviceId)}::uuid[],
        ${slice.map((s) => s.subject)}::text[], ${slice.map((s) => msDate(s.breachingSinceMs))}::timestamptz[],
        ${slice.map((s) => s.firing)}::boolean[], ${slice.map((s) => s.lastCounter)}::float8[],
        ${slice.map((s) => msDate(s.lastAtMs))}::timestamptz[], ${slice.map((s) => s.lastLogId)}::bigint[])`)
      .onConflict((conflict) => conflict.columns(['ruleId', 'deviceId', 'subject'])
        .doUpdateSet((eb) => ({
          breachingSince: eb.ref('excluded.breachingSince'), firing: eb.ref('excluded.firing'), lastCounter: eb.ref('excluded.lastCounter'),
          lastAt: eb.ref('excluded.lastAt'), lastLogId: eb.ref('excluded.lastLogId'),
        }))
        .whereRef('alertConditionState.lastLogId', '<', 'excluded.lastLogId'))
      .returning(['ruleId', 'deviceId', 'subject'])
      .execute();
    for (const row of rows) stored.add(stateKey(row.ruleId, row.deviceId, row.subject));
  }
  return stored;
}

const msDate = (ms: number | null) => (ms === null ? null : new Date(ms));

// ---- actions: tickets -------------------------------------------------------------------------

export interface TicketDue { id: string; organizationId: string; deviceId: string; title: string; severity: Severity }

/** Active alerts whose rule opens a ticket and that have none yet (muted and flapping ones do not). */
export async function alertsNeedingTickets(db: SqlExecutor, limit: number): Promise<TicketDue[]> {
  return typed(db).selectFrom('alerts as a').innerJoin('alertRules as r', 'r.id', 'a.ruleId')
    .select(['a.id', 'a.organizationId', 'a.deviceId', 'a.title', 'a.severity'])
    .where((eb) => eb.and([
      eb.ref('r.openTicket'), eb('a.state', '<>', sql.lit('resolved')), eb('a.ticketId', 'is', null),
      eb.not(eb.ref('a.muted')), eb.not(eb.ref('a.flapping')),
    ]))
    .orderBy('a.openedAt').limit(limit)
    .$narrowType<{ severity: Severity }>().execute();
}

/** Links a ticket to an alert unless another run linked one first; returns whether it did. */
export async function linkTicket(db: SqlExecutor, alertId: string, ticketId: string): Promise<boolean> {
  const result = await typed(db).updateTable('alerts').set({ ticketId })
    .where('id', '=', alertId).where('ticketId', 'is', null).executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Resolved alerts whose linked ticket the rule closes on resolve, not yet closed. */
export async function ticketsToClose(db: SqlExecutor, limit: number): Promise<{ id: string; organizationId: string; ticketId: string }[]> {
  return typed(db).selectFrom('alerts as a').innerJoin('alertRules as r', 'r.id', 'a.ruleId')
    .select(['a.id', 'a.organizationId', 'a.ticketId'])
    .where((eb) => eb.and([
      eb('a.state', '=', sql.lit('resolved')), eb('a.ticketId', 'is not', null), eb.not(eb.ref('a.ticketClosed')), eb.ref('r.closeTicketOnResolve'),
    ]))
    .orderBy('a.resolvedAt').limit(limit)
    .$narrowType<{ ticketId: string }>().execute();
}

export async function markTicketClosed(db: SqlExecutor, alertId: string): Promise<void> {
  await typed(db).updateTable('alerts').set({ ticketClosed: sql.lit(true) }).where('id', '=', alertId).execute();
}

// ---- history for ClickHouse -------------------------------------------------------------------

export interface LoggedAlertEvent { id: number; alertId: string; organizationId: string; deviceId: string; ruleId: string; eventType: string; severity: string; actorId: string | null; at: Date }

/** The ETL's cursor row in analytics_cursors. */
const ALERT_EVENTS_CURSOR = 'alert_events';

/** Events after the ETL's cursor, older than `settleSec` (lower ids may still be committing). Three statements. */
export async function alertEventsAfter(db: SqlExecutor, settleSec: number, limit: number): Promise<{ position: number; rows: LoggedAlertEvent[] }> {
  await typed(db).insertInto('analyticsCursors').values({ name: ALERT_EVENTS_CURSOR })
    .onConflict((conflict) => conflict.column('name').doNothing()).execute();
  const { position } = await typed(db).selectFrom('analyticsCursors').select('position').where('name', '=', ALERT_EVENTS_CURSOR).executeTakeFirstOrThrow();
  const rows = await typed(db).selectFrom('alertEventLog')
    .select(['id', 'alertId', 'organizationId', 'deviceId', 'ruleId', 'eventType', 'severity', 'actorId', 'createdAt as at'])
    .where('id', '>', position).where('createdAt', '<', secondsAgo(settleSec))
    .orderBy('id').limit(limit)
    .execute();
  return { position, rows };
}

export async function advanceAlertEventCursor(db: SqlExecutor, position: number): Promise<void> {
  await typed(db).updateTable('analyticsCursors').set({ position, updatedAt: sql<Date>`NOW()` }).where('name', '=', ALERT_EVENTS_CURSOR).execute();
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
  return typed(db).selectFrom('alerts as a').innerJoin('alertRules as r', 'r.id', 'a.ruleId')
    .select((eb) => [
      'a.id', 'a.organizationId', 'a.deviceId', 'r.remediationScriptId as scriptId', 'r.name as ruleName', 'a.title',
      eb('a.remediationState', 'is not', null).as('stale'),
    ])
    .where('r.remediationScriptId', 'is not', null)
    .where((eb) => eb.or([
      eb.and([eb('a.remediationState', 'is', null), eb('a.state', '<>', sql.lit('resolved')), eb.not(eb.ref('a.muted')), eb.not(eb.ref('a.flapping'))]),
      eb.and([eb('a.remediationState', '=', sql.lit('starting')), eb('a.remediationAt', '<', secondsAgo(staleSec))]),
    ]))
    .orderBy('a.openedAt').limit(limit)
    .$narrowType<{ scriptId: string; stale: boolean }>().execute();
}

/** Claims an alert's remediation (null → starting, or a stale starting claim renewed); true for the one caller that gets it. */
export async function claimRemediation(db: SqlExecutor, alertId: string, stale: boolean): Promise<boolean> {
  const result = await (stale
    ? typed(db).updateTable('alerts').set({ remediationAt: sql<Date>`NOW()` })
      .where('id', '=', alertId).where('remediationState', '=', sql.lit('starting'))
    : typed(db).updateTable('alerts').set({ remediationState: sql.lit('starting'), remediationAt: sql<Date>`NOW()` })
      .where('id', '=', alertId).where('remediationState', 'is', null)
  ).executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** The command an interrupted claim already started, if any (found by its label). */
export async function remediationCommandOf(db: SqlExecutor, alertId: string): Promise<string | null> {
  const row = await typed(db).selectFrom('commands').select('id')
    .where('requestedByLabel', '=', remediationLabel(alertId)).orderBy('createdAt').limit(1).executeTakeFirst();
  return row?.id ?? null;
}

export async function markRemediation(
  db: SqlExecutor, alertId: string,
  fields: { state: 'running' | 'succeeded' | 'failed'; commandId?: string | null; exitCode?: number | null; error?: string | null },
): Promise<void> {
  const { commandId } = fields;
  await typed(db).updateTable('alerts')
    .set({
      remediationState: fields.state, remediationExitCode: fields.exitCode ?? null, remediationError: fields.error?.slice(0, 2000) ?? null,
      remediationAt: sql<Date>`NOW()`,
    })
    // No command given: the one recorded before stays.
    .$if(commandId !== undefined && commandId !== null, (query) => query.set({ remediationCommandId: commandId! }))
    .where('id', '=', alertId).execute();
}

/** Running remediations whose command has finished, with its outcome. */
export async function finishedRemediations(db: SqlExecutor, limit: number) {
  return typed(db).selectFrom('alerts as a').innerJoin('commands as c', 'c.id', 'a.remediationCommandId')
    .select(['a.id', 'c.status', 'c.exitCode', 'c.error'])
    .where('a.remediationState', '=', sql.lit('running')).where('c.status', 'in', FINAL_COMMAND_STATUSES)
    .limit(limit)
    .execute();
}
