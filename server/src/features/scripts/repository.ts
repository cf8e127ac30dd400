import { sql } from 'kysely';
import { anyUuid, textArray, typed, uuidArray, type SqlExecutor } from '../../stores/relational/index.ts';
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

/** What the schema leaves wider than the rows are: values the code writes and JSON. */
type ScriptNarrowing = { language: Language; targetOs: TargetOs[]; parameters: ParameterDefinition[] };

/** Scripts with their current version, as `s` and `v`; the caller adds the filters. */
function selectScripts(db: SqlExecutor) {
  return typed(db).selectFrom('scripts as s')
    .innerJoin('scriptVersions as v', (join) => join.onRef('v.scriptId', '=', 's.id').onRef('v.version', '=', 's.currentVersion'))
    .select(['s.id', 's.organizationId', 's.name', 's.description', 's.language', 's.targetOs', 's.currentVersion', 'v.body', 'v.parameters', 's.createdAt', 's.updatedAt'])
    .$narrowType<ScriptNarrowing>();
}

const conflict = (name: string) => new AppError('CONFLICT', `A script named "${name}" already exists`);

export async function insertScript(
  db: SqlExecutor, organizationId: string, fields: { name: string; description: string; language: Language; targetOs: TargetOs[] },
): Promise<string> {
  try {
    const { id } = await typed(db).insertInto('scripts')
      .values({ organizationId, name: fields.name, description: fields.description, language: fields.language, targetOs: textArray([...new Set(fields.targetOs)]) })
      .returning('id').executeTakeFirstOrThrow();
    return id;
  } catch (error) {
    if (isUniqueViolation(error)) throw conflict(fields.name);
    throw error;
  }
}

export async function insertVersion(db: SqlExecutor, scriptId: string, version: number, body: string, parameters: ParameterDefinition[], author: Author) {
  await typed(db).insertInto('scriptVersions')
    .values({ scriptId, version, body, parameters: JSON.stringify(parameters), createdBy: author.userId, createdByLabel: author.label.slice(0, 320) })
    .execute();
}

/** Changes the script's own fields and, with `version`, points it at a new version. */
export async function updateScriptRow(
  db: SqlExecutor, organizationId: string, id: string,
  fields: { name: string; description: string; targetOs: TargetOs[]; currentVersion: number },
): Promise<void> {
  try {
    await typed(db).updateTable('scripts')
      .set({
        name: fields.name, description: fields.description, targetOs: textArray([...new Set(fields.targetOs)]),
        currentVersion: fields.currentVersion, updatedAt: sql<Date>`NOW()`,
      })
      .where('id', '=', id).where('organizationId', '=', organizationId)
      .execute();
  } catch (error) {
    if (isUniqueViolation(error)) throw conflict(fields.name);
    throw error;
  }
}

/** The organization's script (another organization's is not found); `forUpdate` locks it for an edit. */
export async function getScript(db: SqlExecutor, organizationId: string, id: string, forUpdate = false): Promise<Script> {
  const row = await selectScripts(db).where('s.id', '=', id).where('s.organizationId', '=', organizationId)
    .$if(forUpdate, (query) => query.forUpdate('s'))
    .executeTakeFirst();
  if (!row) throw notFound('Script');
  return row;
}

export async function findScriptByName(db: SqlExecutor, organizationId: string, name: string): Promise<Script> {
  const row = await selectScripts(db).where('s.organizationId', '=', organizationId)
    .where((eb) => eb(eb.fn('lower', ['s.name']), '=', eb.fn('lower', [eb.val(name)])))
    .executeTakeFirst();
  if (!row) throw notFound('Script');
  return row;
}

export async function listScripts(db: SqlExecutor, organizationId: string): Promise<Script[]> {
  return selectScripts(db).where('s.organizationId', '=', organizationId).orderBy((eb) => eb.fn('lower', ['s.name'])).execute();
}

export async function listVersions(db: SqlExecutor, scriptId: string): Promise<ScriptVersion[]> {
  return typed(db).selectFrom('scriptVersions').select(['version', 'body', 'parameters', 'createdByLabel', 'createdAt'])
    .where('scriptId', '=', scriptId).orderBy('version', 'desc')
    .$narrowType<{ parameters: ParameterDefinition[] }>()
    .execute();
}

/** The organization's approved, enrolled devices among `ids` (null: all of them), with their OS. */
export async function targetDevices(db: SqlExecutor, organizationId: string, ids: readonly string[] | null) {
  return typed(db).selectFrom('devices').select(['id', 'osType'])
    .where('organizationId', '=', organizationId).where('decommissionedAt', 'is', null).where('approvalState', '=', sql.lit('approved'))
    .$if(ids !== null, (query) => query.where('id', '=', anyUuid(ids!)))
    .orderBy('id')
    .execute();
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

/** What the schema leaves wider than the rows are: values the code writes and JSON. */
type RunNarrowing = { trigger: RunTrigger; parameters: ParameterValues };

/** Runs with their script's name, as `r`; the caller adds the filters. */
function selectRuns(db: SqlExecutor) {
  return typed(db).selectFrom('scriptRuns as r').innerJoin('scripts as s', 's.id', 'r.scriptId')
    .select([
      'r.id', 'r.organizationId', 'r.scriptId', 's.name as scriptName', 'r.version', 'r.trigger', 'r.scheduleId', 'r.bulkJobId',
      'r.commandId', 'r.alertId', 'r.parameters', 'r.requestedByLabel', 'r.error', 'r.createdAt',
    ])
    .$narrowType<RunNarrowing>();
}

export async function insertRun(db: SqlExecutor, run: {
  organizationId: string; scriptId: string; version: number; trigger: RunTrigger; scheduleId?: string | null; bulkJobId?: string | null;
  commandId?: string | null; alertId?: string | null; parameters: ParameterValues; requestedByLabel: string; error?: string | null;
}): Promise<string> {
  const { id } = await typed(db).insertInto('scriptRuns')
    .values({
      organizationId: run.organizationId, scriptId: run.scriptId, version: run.version, trigger: run.trigger, scheduleId: run.scheduleId ?? null,
      bulkJobId: run.bulkJobId ?? null, commandId: run.commandId ?? null, alertId: run.alertId ?? null, parameters: JSON.stringify(run.parameters),
      requestedByLabel: run.requestedByLabel.slice(0, 320), error: run.error?.slice(0, 2000) ?? null,
    })
    .returning('id').executeTakeFirstOrThrow();
  return id;
}

export async function listRuns(db: SqlExecutor, organizationId: string, scriptId: string | null, limit: number): Promise<ScriptRun[]> {
  return selectRuns(db).where('r.organizationId', '=', organizationId)
    .$if(scriptId !== null, (query) => query.where('r.scriptId', '=', scriptId!))
    .orderBy('r.createdAt', 'desc').orderBy('r.id').limit(limit)
    .execute();
}

export async function getRun(db: SqlExecutor, organizationId: string, id: string): Promise<ScriptRun> {
  const row = await selectRuns(db).where('r.id', '=', id).where('r.organizationId', '=', organizationId).executeTakeFirst();
  if (!row) throw notFound('Run');
  return row;
}

/** One command's outcome (a remediation run's single device). */
export async function commandOutcome(db: SqlExecutor, commandId: string) {
  const row = await typed(db).selectFrom('commands as c').leftJoin('devices as d', 'd.id', 'c.deviceId')
    .select(['c.deviceId', 'd.name as deviceName', 'c.status', 'c.exitCode', 'c.error'])
    .where('c.id', '=', commandId)
    .executeTakeFirst();
  return row ?? null;
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

/** What the schema leaves wider than the rows are: values the code writes, JSON and the uuid[] read as text[]. */
type ScheduleNarrowing = { targetKind: TargetKind; parameters: ParameterValues };

/** Schedules with their script's name, as `c`; the caller adds the filters. */
function selectSchedules(db: SqlExecutor) {
  return typed(db).selectFrom('scriptSchedules as c').innerJoin('scripts as s', 's.id', 'c.scriptId')
    .select((eb) => [
      'c.id', 'c.organizationId', 'c.scriptId', 's.name as scriptName', 'c.name', 'c.cron', 'c.timezone', 'c.targetKind', 'c.targetValue',
      // uuid[] comes back from the drivers as array text; text[] comes back as an array.
      sql<string[]>`${eb.ref('c.deviceIds')}::text[]`.as('deviceIds'),
      'c.parameters', 'c.enabled', 'c.nextRunAt', 'c.lastRunAt', 'c.createdBy', 'c.createdByLabel', 'c.createdAt',
    ])
    .$narrowType<ScheduleNarrowing>();
}

export async function insertSchedule(db: SqlExecutor, schedule: Omit<Schedule, 'id' | 'scriptName' | 'lastRunAt' | 'createdAt'>): Promise<string> {
  const { id } = await typed(db).insertInto('scriptSchedules')
    .values({
      organizationId: schedule.organizationId, scriptId: schedule.scriptId, name: schedule.name, cron: schedule.cron, timezone: schedule.timezone,
      targetKind: schedule.targetKind, targetValue: schedule.targetValue, deviceIds: uuidArray(schedule.deviceIds),
      parameters: JSON.stringify(schedule.parameters), enabled: schedule.enabled, nextRunAt: schedule.nextRunAt, createdBy: schedule.createdBy,
      createdByLabel: schedule.createdByLabel.slice(0, 320),
    })
    .returning('id').executeTakeFirstOrThrow();
  return id;
}

export async function getSchedule(db: SqlExecutor, organizationId: string, id: string): Promise<Schedule> {
  const row = await selectSchedules(db).where('c.id', '=', id).where('c.organizationId', '=', organizationId).executeTakeFirst();
  if (!row) throw notFound('Schedule');
  return row;
}

export async function listSchedules(db: SqlExecutor, organizationId: string, scriptId: string | null): Promise<Schedule[]> {
  return selectSchedules(db).where('c.organizationId', '=', organizationId)
    .$if(scriptId !== null, (query) => query.where('c.scriptId', '=', scriptId!))
    .orderBy((eb) => eb.fn('lower', ['c.name'])).orderBy('c.id')
    .execute();
}

export async function setScheduleState(db: SqlExecutor, organizationId: string, id: string, enabled: boolean, nextRunAt: Date | null): Promise<void> {
  await typed(db).updateTable('scriptSchedules').set({ enabled, nextRunAt, updatedAt: sql<Date>`NOW()` })
    .where('id', '=', id).where('organizationId', '=', organizationId)
    .execute();
}

export async function deleteSchedule(db: SqlExecutor, organizationId: string, id: string): Promise<boolean> {
  const result = await typed(db).deleteFrom('scriptSchedules').where('id', '=', id).where('organizationId', '=', organizationId).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** Enabled schedules due at `now`, any organization. */
export async function dueSchedules(db: SqlExecutor, now: Date, limit: number): Promise<Schedule[]> {
  return selectSchedules(db).where((eb) => eb.ref('c.enabled')).where('c.nextRunAt', '<=', now).orderBy('c.nextRunAt').limit(limit).execute();
}

/**
 * Moves a due schedule to its next time, only if it still has the time it was read with: of
 * two instances (or two runs) that read the same due schedule, exactly one advances it and runs it.
 */
export async function advanceSchedule(db: SqlExecutor, id: string, dueAt: Date, nextRunAt: Date): Promise<boolean> {
  // Compared at millisecond precision: that is what a JavaScript Date read back holds.
  const result = await typed(db).updateTable('scriptSchedules').set({ nextRunAt, lastRunAt: sql<Date>`NOW()` })
    .where((eb) => eb.ref('enabled')).where('id', '=', id)
    .where((eb) => eb(sql`date_trunc('milliseconds', ${eb.ref('nextRunAt')})`, '=', sql`date_trunc('milliseconds', ${dueAt}::timestamptz)`))
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}
