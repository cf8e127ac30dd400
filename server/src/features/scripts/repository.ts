import type { SqlExecutor } from '../../stores/relational/index.ts';
import { AppError, isUniqueViolation, notFound } from '../../platform/errors.ts';
import type { Language, ParameterDefinition, ParameterValues, TargetKind, TargetOs } from './schemas.ts';

/** A saved script with its current version's body and parameters. */
export interface Script {
  id: string;
  organizationId: string;
  name: string;
  description: string;
  language: Language;
  targetOs: TargetOs[];
  currentVersion: number;
  body: string;
  parameters: ParameterDefinition[];
  createdAt: Date;
  updatedAt: Date;
}

export interface ScriptVersion {
  version: number;
  body: string;
  parameters: ParameterDefinition[];
  createdByLabel: string;
  createdAt: Date;
}

export interface Author { userId: string | null; label: string }

const SCRIPT_COLUMNS = `s.id, s.organization_id AS "organizationId", s.name, s.description, s.language, s.target_os AS "targetOs",
  s.current_version AS "currentVersion", v.body, v.parameters, s.created_at AS "createdAt", s.updated_at AS "updatedAt"`;
const SCRIPT_FROM = 'scripts s JOIN script_versions v ON v.script_id = s.id AND v.version = s.current_version';

const conflict = (name: string) => new AppError('CONFLICT', `A script named "${name}" already exists`);

export async function insertScript(
  db: SqlExecutor, organizationId: string, fields: { name: string; description: string; language: Language; targetOs: TargetOs[] },
): Promise<string> {
  try {
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO scripts (organization_id, name, description, language, target_os) VALUES ($1, $2, $3, $4, $5::text[]) RETURNING id`,
      [organizationId, fields.name, fields.description, fields.language, [...new Set(fields.targetOs)]]);
    return rows[0]!.id;
  } catch (error) {
    if (isUniqueViolation(error)) throw conflict(fields.name);
    throw error;
  }
}

export async function insertVersion(db: SqlExecutor, scriptId: string, version: number, body: string, parameters: ParameterDefinition[], author: Author) {
  await db.query(
    `INSERT INTO script_versions (script_id, version, body, parameters, created_by, created_by_label) VALUES ($1, $2, $3, $4::jsonb, $5, $6)`,
    [scriptId, version, body, JSON.stringify(parameters), author.userId, author.label.slice(0, 320)]);
}

/** Changes the script's own fields and, with `version`, points it at a new version. */
export async function updateScriptRow(
  db: SqlExecutor, organizationId: string, id: string,
  fields: { name: string; description: string; targetOs: TargetOs[]; currentVersion: number },
): Promise<void> {
  try {
    await db.query(
      `UPDATE scripts SET name = $3, description = $4, target_os = $5::text[], current_version = $6, updated_at = NOW()
       WHERE id = $1 AND organization_id = $2`,
      [id, organizationId, fields.name, fields.description, [...new Set(fields.targetOs)], fields.currentVersion]);
  } catch (error) {
    if (isUniqueViolation(error)) throw conflict(fields.name);
    throw error;
  }
}

/** The organization's script (another organization's is not found); `forUpdate` locks it for an edit. */
export async function getScript(db: SqlExecutor, organizationId: string, id: string, forUpdate = false): Promise<Script> {
  const { rows } = await db.query<Script>(
    `SELECT ${SCRIPT_COLUMNS} FROM ${SCRIPT_FROM} WHERE s.id = $1 AND s.organization_id = $2${forUpdate ? ' FOR UPDATE OF s' : ''}`, [id, organizationId]);
  if (!rows[0]) throw notFound('Script');
  return rows[0];
}

export async function findScriptByName(db: SqlExecutor, organizationId: string, name: string): Promise<Script> {
  const { rows } = await db.query<Script>(
    `SELECT ${SCRIPT_COLUMNS} FROM ${SCRIPT_FROM} WHERE s.organization_id = $1 AND lower(s.name) = lower($2)`, [organizationId, name]);
  if (!rows[0]) throw notFound('Script');
  return rows[0];
}

export async function listScripts(db: SqlExecutor, organizationId: string): Promise<Script[]> {
  const { rows } = await db.query<Script>(`SELECT ${SCRIPT_COLUMNS} FROM ${SCRIPT_FROM} WHERE s.organization_id = $1 ORDER BY lower(s.name)`, [organizationId]);
  return rows;
}

export async function listVersions(db: SqlExecutor, scriptId: string): Promise<ScriptVersion[]> {
  const { rows } = await db.query<ScriptVersion>(
    `SELECT version, body, parameters, created_by_label AS "createdByLabel", created_at AS "createdAt"
     FROM script_versions WHERE script_id = $1 ORDER BY version DESC`, [scriptId]);
  return rows;
}

/** The organization's approved, enrolled devices among `ids` (null: all of them), with their OS. */
export async function targetDevices(db: SqlExecutor, organizationId: string, ids: readonly string[] | null) {
  const { rows } = await db.query<{ id: string; osType: string | null }>(
    `SELECT id, os_type AS "osType" FROM devices WHERE organization_id = $1 AND decommissioned_at IS NULL
       AND approval_state = 'approved' AND ($2::uuid[] IS NULL OR id = ANY($2::uuid[])) ORDER BY id`,
    [organizationId, ids]);
  return rows;
}

// ---- runs ---------------------------------------------------------------------------------------

export type RunTrigger = 'manual' | 'schedule' | 'remediation' | 'check';

export interface ScriptRun {
  id: string;
  organizationId: string;
  scriptId: string;
  scriptName: string;
  version: number;
  trigger: RunTrigger;
  scheduleId: string | null;
  bulkJobId: string | null;
  commandId: string | null;
  alertId: string | null;
  parameters: ParameterValues;
  requestedByLabel: string;
  error: string | null;
  createdAt: Date;
}

const RUN_COLUMNS = `r.id, r.organization_id AS "organizationId", r.script_id AS "scriptId", s.name AS "scriptName", r.version, r.trigger,
  r.schedule_id AS "scheduleId", r.bulk_job_id AS "bulkJobId", r.command_id AS "commandId", r.alert_id AS "alertId", r.parameters,
  r.requested_by_label AS "requestedByLabel", r.error, r.created_at AS "createdAt"`;

export async function insertRun(db: SqlExecutor, run: {
  organizationId: string; scriptId: string; version: number; trigger: RunTrigger; scheduleId?: string | null; bulkJobId?: string | null;
  commandId?: string | null; alertId?: string | null; parameters: ParameterValues; requestedByLabel: string; error?: string | null;
}): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO script_runs (organization_id, script_id, version, trigger, schedule_id, bulk_job_id, command_id, alert_id, parameters,
       requested_by_label, error) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11) RETURNING id`,
    [run.organizationId, run.scriptId, run.version, run.trigger, run.scheduleId ?? null, run.bulkJobId ?? null, run.commandId ?? null,
      run.alertId ?? null, JSON.stringify(run.parameters), run.requestedByLabel.slice(0, 320), run.error?.slice(0, 2000) ?? null]);
  return rows[0]!.id;
}

export async function listRuns(db: SqlExecutor, organizationId: string, scriptId: string | null, limit: number): Promise<ScriptRun[]> {
  const { rows } = await db.query<ScriptRun>(
    `SELECT ${RUN_COLUMNS} FROM script_runs r JOIN scripts s ON s.id = r.script_id
     WHERE r.organization_id = $1 AND ($2::uuid IS NULL OR r.script_id = $2) ORDER BY r.created_at DESC, r.id LIMIT $3`,
    [organizationId, scriptId, limit]);
  return rows;
}

export async function getRun(db: SqlExecutor, organizationId: string, id: string): Promise<ScriptRun> {
  const { rows } = await db.query<ScriptRun>(
    `SELECT ${RUN_COLUMNS} FROM script_runs r JOIN scripts s ON s.id = r.script_id WHERE r.id = $1 AND r.organization_id = $2`, [id, organizationId]);
  if (!rows[0]) throw notFound('Run');
  return rows[0];
}

/** One command's outcome (a remediation run's single device). */
export async function commandOutcome(db: SqlExecutor, commandId: string) {
  const { rows } = await db.query<{ deviceId: string; deviceName: string | null; status: string; exitCode: number | null; error: string | null }>(
    `SELECT c.device_id AS "deviceId", d.name AS "deviceName", c.status, c.exit_code AS "exitCode", c.error
     FROM commands c LEFT JOIN devices d ON d.id = c.device_id WHERE c.id = $1`, [commandId]);
  return rows[0] ?? null;
}

// ---- schedules ----------------------------------------------------------------------------------

export interface Schedule {
  id: string;
  organizationId: string;
  scriptId: string;
  scriptName: string;
  name: string;
  cron: string;
  timezone: string;
  targetKind: TargetKind;
  targetValue: string | null;
  deviceIds: string[];
  parameters: ParameterValues;
  enabled: boolean;
  nextRunAt: Date | null;
  lastRunAt: Date | null;
  createdBy: string | null;
  createdByLabel: string;
  createdAt: Date;
}

const SCHEDULE_COLUMNS = `c.id, c.organization_id AS "organizationId", c.script_id AS "scriptId", s.name AS "scriptName", c.name, c.cron, c.timezone,
  c.target_kind AS "targetKind", c.target_value AS "targetValue", c.device_ids::text[] AS "deviceIds", c.parameters, c.enabled,
  c.next_run_at AS "nextRunAt", c.last_run_at AS "lastRunAt", c.created_by AS "createdBy", c.created_by_label AS "createdByLabel",
  c.created_at AS "createdAt"`;
const SCHEDULE_FROM = 'script_schedules c JOIN scripts s ON s.id = c.script_id';

export async function insertSchedule(db: SqlExecutor, schedule: Omit<Schedule, 'id' | 'scriptName' | 'lastRunAt' | 'createdAt'>): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO script_schedules (organization_id, script_id, name, cron, timezone, target_kind, target_value, device_ids, parameters,
       enabled, next_run_at, created_by, created_by_label) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::uuid[], $9::jsonb, $10, $11, $12, $13) RETURNING id`,
    [schedule.organizationId, schedule.scriptId, schedule.name, schedule.cron, schedule.timezone, schedule.targetKind, schedule.targetValue,
      schedule.deviceIds, JSON.stringify(schedule.parameters), schedule.enabled, schedule.nextRunAt, schedule.createdBy, schedule.createdByLabel.slice(0, 320)]);
  return rows[0]!.id;
}

export async function getSchedule(db: SqlExecutor, organizationId: string, id: string): Promise<Schedule> {
  const { rows } = await db.query<Schedule>(`SELECT ${SCHEDULE_COLUMNS} FROM ${SCHEDULE_FROM} WHERE c.id = $1 AND c.organization_id = $2`, [id, organizationId]);
  if (!rows[0]) throw notFound('Schedule');
  return rows[0];
}

export async function listSchedules(db: SqlExecutor, organizationId: string, scriptId: string | null): Promise<Schedule[]> {
  const { rows } = await db.query<Schedule>(
    `SELECT ${SCHEDULE_COLUMNS} FROM ${SCHEDULE_FROM} WHERE c.organization_id = $1 AND ($2::uuid IS NULL OR c.script_id = $2)
     ORDER BY lower(c.name), c.id`, [organizationId, scriptId]);
  return rows;
}

export async function setScheduleState(db: SqlExecutor, organizationId: string, id: string, enabled: boolean, nextRunAt: Date | null): Promise<void> {
  await db.query('UPDATE script_schedules SET enabled = $3, next_run_at = $4, updated_at = NOW() WHERE id = $1 AND organization_id = $2',
    [id, organizationId, enabled, nextRunAt]);
}

export async function deleteSchedule(db: SqlExecutor, organizationId: string, id: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM script_schedules WHERE id = $1 AND organization_id = $2', [id, organizationId]);
  return rowCount > 0;
}

/** Enabled schedules due at `now`, any organization. */
export async function dueSchedules(db: SqlExecutor, now: Date, limit: number): Promise<Schedule[]> {
  const { rows } = await db.query<Schedule>(
    `SELECT ${SCHEDULE_COLUMNS} FROM ${SCHEDULE_FROM} WHERE c.enabled AND c.next_run_at <= $1 ORDER BY c.next_run_at LIMIT $2`, [now, limit]);
  return rows;
}

/**
 * Moves a due schedule to its next time, only if it still has the time it was read with: of
 * two instances (or two runs) that read the same due schedule, exactly one advances it and runs it.
 */
export async function advanceSchedule(db: SqlExecutor, id: string, dueAt: Date, nextRunAt: Date): Promise<boolean> {
  const { rowCount } = await db.query(
    // Compared at millisecond precision: that is what a JavaScript Date read back holds.
    `UPDATE script_schedules SET next_run_at = $3, last_run_at = NOW()
     WHERE id = $1 AND enabled AND date_trunc('milliseconds', next_run_at) = date_trunc('milliseconds', $2::timestamptz)`,
    [id, dueAt, nextRunAt]);
  return rowCount > 0;
}
