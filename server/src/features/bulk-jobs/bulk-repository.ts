import { sql } from 'kysely';
import { anyUuid, typed, type SqlExecutor } from '../../stores/relational/index.ts';
import type { Interpreter, Shell } from '../commands/index.ts';

/**
 * Every query of bulk jobs and their per-device targets: typed with Kysely, so a renamed column is
 * a compile error; id lists travel as one `uuid[]` parameter. Each function is one statement, as before.
 */

export interface BulkJob {
  id: string;
  organizationId: string;
  requestedBy: string | null;
  requestedByLabel: string;
  name: string;
  shell: Shell;
  interpreter: Interpreter | null;
  script: string;
  /** Environment variables each device's command gets (a saved script's parameters), or null. */
  env: Record<string, string> | null;
  timeoutSec: number;
  expiresInSec: number;
  concurrency: number;
  maxAttempts: number;
  status: 'running' | 'completed' | 'cancelled';
  total: number;
  createdAt: Date;
  finishedAt: Date | null;
}

export type TargetStatus = 'pending' | 'enqueued' | 'running' | 'succeeded' | 'failed' | 'skipped';

export interface BulkTarget {
  deviceId: string;
  deviceName: string | null;
  status: TargetStatus;
  attempts: number;
  commandId: string | null;
  exitCode: number | null;
  error: string | null;
  updatedAt: Date;
}

const JOB_COLUMNS = [
  'id', 'organizationId', 'requestedBy', 'requestedByLabel', 'name', 'shell', 'interpreter', 'script', 'env', 'timeoutSec',
  'expiresInSec', 'concurrency', 'maxAttempts', 'status', 'total', 'createdAt', 'finishedAt',
] as const;

/** What the schema leaves wider than the rows are: values the code writes, and columns set on insert. */
type JobNarrowing = { shell: Shell; interpreter: Interpreter | null; env: Record<string, string> | null; status: BulkJob['status']; createdAt: Date };

/** Targets that still have something to run. */
const UNFINISHED_TARGETS = [sql.lit('pending'), sql.lit('enqueued'), sql.lit('running')];

/** The organization's live devices among `deviceIds` (null: all of them), with whether each is approved. */
export async function selectJobDevices(db: SqlExecutor, organizationId: string, deviceIds: readonly string[] | null) {
  return typed(db).selectFrom('devices')
    .select((eb) => ['id', 'osType', eb('approvalState', '=', sql.lit('approved')).as('approved')])
    .where('organizationId', '=', organizationId).where('decommissionedAt', 'is', null)
    .$if(deviceIds !== null, (query) => query.where('id', '=', anyUuid(deviceIds!)))
    .orderBy('id').$narrowType<{ approved: boolean }>().execute();
}

export async function getJob(db: SqlExecutor, organizationId: string | null, id: string): Promise<BulkJob | null> {
  const row = await typed(db).selectFrom('bulkJobs').select(JOB_COLUMNS).where('id', '=', id)
    .$if(organizationId !== null, (query) => query.where('organizationId', '=', organizationId!))
    .$narrowType<JobNarrowing>().executeTakeFirst();
  return row ?? null;
}

/** A new running job; `env` null or with at least one variable. */
export async function insertJob(tx: SqlExecutor, job: {
  organizationId: string; requestedBy: string | null; requestedByLabel: string; name: string; shell: Shell; interpreter: Interpreter | null;
  script: string; timeoutSec: number; expiresInSec: number; concurrency: number; maxAttempts: number; total: number; env: Record<string, string> | null;
}): Promise<BulkJob> {
  const { env, ...values } = job;
  return typed(tx).insertInto('bulkJobs').values({ ...values, env: sql`${env ? JSON.stringify(env) : null}::jsonb` })
    .returning(JOB_COLUMNS).$narrowType<JobNarrowing>().executeTakeFirstOrThrow();
}

/** One pending target per device, from one `uuid[]` parameter. */
export async function insertTargets(tx: SqlExecutor, jobId: string, deviceIds: readonly string[]): Promise<void> {
  await typed(tx).insertInto('bulkJobTargets').columns(['jobId', 'deviceId'])
    .expression(typed(tx).selectNoFrom([sql<string>`${jobId}`.as('jobId'), sql<string>`unnest(${deviceIds}::uuid[])`.as('deviceId')]))
    .execute();
}

/** Moves up to `count` pending targets to `enqueued`; SKIP LOCKED lets instances promote at once without doubles. */
export async function claimPending(db: SqlExecutor, jobId: string, count: number): Promise<string[]> {
  const rows = await typed(db).updateTable('bulkJobTargets as t')
    .set({ status: sql.lit('enqueued'), updatedAt: sql<Date>`NOW()` })
    .from((eb) => eb.selectFrom('bulkJobTargets').select('deviceId').where('jobId', '=', jobId).where('status', '=', sql.lit('pending'))
      .orderBy('deviceId').limit(count).forUpdate().skipLocked().as('p'))
    .where('t.jobId', '=', jobId).whereRef('t.deviceId', '=', 'p.deviceId')
    .returning('t.deviceId').execute();
  return rows.map((row) => row.deviceId);
}

/** Sets a target's status and whichever other fields are given (absent ones keep their value). */
export async function updateTarget(
  db: SqlExecutor,
  jobId: string,
  deviceId: string,
  fields: { status: TargetStatus; attempts?: number; commandId?: string | null; exitCode?: number | null; error?: string | null },
): Promise<void> {
  await typed(db).updateTable('bulkJobTargets')
    .set({
      status: fields.status, updatedAt: sql<Date>`NOW()`,
      ...(fields.attempts !== undefined ? { attempts: fields.attempts } : {}),
      ...('commandId' in fields ? { commandId: fields.commandId ?? null } : {}),
      ...('exitCode' in fields ? { exitCode: fields.exitCode ?? null } : {}),
      ...('error' in fields ? { error: fields.error ?? null } : {}),
    })
    .where('jobId', '=', jobId).where('deviceId', '=', deviceId).execute();
}

export async function getTarget(db: SqlExecutor, jobId: string, deviceId: string) {
  const row = await typed(db).selectFrom('bulkJobTargets').select(['status', 'attempts', 'commandId'])
    .where('jobId', '=', jobId).where('deviceId', '=', deviceId).$narrowType<{ status: TargetStatus }>().executeTakeFirst();
  return row ?? null;
}

/** Marks the job completed once no target is left to run; returns true the one time it happens. */
export async function completeIfDone(db: SqlExecutor, jobId: string): Promise<boolean> {
  const result = await typed(db).updateTable('bulkJobs')
    .set({ status: sql.lit('completed'), finishedAt: sql<Date>`NOW()` })
    .where('id', '=', jobId).where('status', '=', sql.lit('running'))
    .where((eb) => eb.not(eb.exists(eb.selectFrom('bulkJobTargets').select(sql.lit(1).as('one'))
      .where('jobId', '=', jobId).where('status', 'in', UNFINISHED_TARGETS))))
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Stops a running job (the caller checked it runs). */
export async function markJobCancelled(tx: SqlExecutor, jobId: string): Promise<void> {
  await typed(tx).updateTable('bulkJobs').set({ status: sql.lit('cancelled'), finishedAt: sql<Date>`NOW()` }).where('id', '=', jobId).execute();
}

/** The job's targets not started yet are skipped; running ones finish. */
export async function skipUnstartedTargets(tx: SqlExecutor, jobId: string): Promise<void> {
  await typed(tx).updateTable('bulkJobTargets')
    .set({ status: sql.lit('skipped'), error: sql.lit('Job cancelled'), updatedAt: sql<Date>`NOW()` })
    .where('jobId', '=', jobId).where('status', 'in', [sql.lit('pending'), sql.lit('enqueued')]).execute();
}

/** Every target with its device's name (a removed device's is null), by name. */
export async function listTargets(db: SqlExecutor, jobId: string): Promise<BulkTarget[]> {
  return typed(db).selectFrom('bulkJobTargets as t').leftJoin('devices as d', 'd.id', 't.deviceId')
    .select(['t.deviceId', 'd.name as deviceName', 't.status', 't.attempts', 't.commandId', 't.exitCode', 't.error', 't.updatedAt'])
    .where('t.jobId', '=', jobId).orderBy('d.name').orderBy('t.deviceId')
    .$narrowType<{ status: TargetStatus; updatedAt: Date }>().execute();
}
