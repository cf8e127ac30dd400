import { sql } from 'kysely';
import { anyUuid, typed, type SqlExecutor } from '../../stores/relational/index.ts';
import { FINAL_STATUSES, type Interpreter, type Shell } from '../commands/index.ts';

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

/** A page of the job's targets with their devices' names (a removed device's is null), by name. */
export async function listTargets(db: SqlExecutor, jobId: string, page: { offset: number; limit: number }): Promise<BulkTarget[]> {
  if (page.limit === 0) return [];
  return typed(db).selectFrom('bulkJobTargets as t').leftJoin('devices as d', 'd.id', 't.deviceId')
    .select(['t.deviceId', 'd.name as deviceName', 't.status', 't.attempts', 't.commandId', 't.exitCode', 't.error', 't.updatedAt'])
    .where('t.jobId', '=', jobId).orderBy('d.name').orderBy('t.deviceId').offset(page.offset).limit(page.limit)
    .$narrowType<{ status: TargetStatus; updatedAt: Date }>().execute();
}

/** How many of the job's targets are in each status: its progress, without reading every row into the server. */
export async function countTargets(db: SqlExecutor, jobId: string): Promise<Record<TargetStatus, number>> {
  const rows = await typed(db).selectFrom('bulkJobTargets').select((eb) => ['status', eb.fn.countAll<number>().as('n')])
    .where('jobId', '=', jobId).groupBy('status').$narrowType<{ status: TargetStatus }>().execute();
  const counts: Record<TargetStatus, number> = { pending: 0, enqueued: 0, running: 0, succeeded: 0, failed: 0, skipped: 0 };
  for (const row of rows) counts[row.status] = Number(row.n);
  return counts;
}

/*
 * The fan-out: a job advances in waves. A wave locks the job's row (waves of one job, on any
 * instance, take turns, so the count of active targets each sees is current), claims up to the
 * free slots of pending targets, inserts their commands and sets them running, in one transaction.
 * A command that becomes final settles its target in the transaction that recorded it.
 */

/** The running job, its row locked to the caller's commit: the wave of one job at a time. Null when it is not running. */
export async function lockRunningJob(tx: SqlExecutor, jobId: string): Promise<BulkJob | null> {
  const row = await typed(tx).selectFrom('bulkJobs').select(JOB_COLUMNS).where('id', '=', jobId).where('status', '=', sql.lit('running'))
    .forUpdate().$narrowType<JobNarrowing>().executeTakeFirst();
  return row ?? null;
}

/** The longest a retried target waits. */
export const MAX_RETRY_BACKOFF_MS = 3_600_000;

/**
 * A retried target waits `backoffMs` after its first try, doubling with each try (at most
 * MAX_RETRY_BACKOFF_MS); `attempts` counts the tries made. As SQL: whether the target's wait is
 * over (the service times its wake-up with shared's `backoffMs`, the same doubling).
 */
const backoffOver = (backoffMs: number) =>
  sql<boolean>`(attempts = 0 OR updated_at + make_interval(secs => LEAST(${backoffMs / 1000}::float8 * power(2, attempts - 1), ${MAX_RETRY_BACKOFF_MS / 1000})) <= NOW())`;

/**
 * Claims up to the job's free slots (`concurrency` minus targets enqueued or running), at most
 * `waveSize`, of pending targets whose backoff is over, counting a try each; one statement. The
 * caller holds the job's lock.
 */
export async function claimWave(tx: SqlExecutor, jobId: string, concurrency: number, backoffMs: number, waveSize: number): Promise<{ deviceId: string; attempts: number }[]> {
  return typed(tx).updateTable('bulkJobTargets as t')
    .set((eb) => ({ status: sql.lit('enqueued'), attempts: eb('t.attempts', '+', sql.lit(1)), updatedAt: sql<Date>`NOW()` }))
    .from((eb) => eb.selectFrom('bulkJobTargets').select('deviceId')
      .where('jobId', '=', jobId).where('status', '=', sql.lit('pending')).where(backoffOver(backoffMs))
      .orderBy('deviceId')
      .limit(sql<number>`GREATEST(0, LEAST(${waveSize}::int, ${concurrency}::int - (${eb.selectFrom('bulkJobTargets').select((inner) => inner.fn.countAll<number>().as('n'))
        .where('jobId', '=', jobId).where('status', 'in', [sql.lit('enqueued'), sql.lit('running')])})))`)
      .forUpdate().skipLocked().as('p'))
    .where('t.jobId', '=', jobId).whereRef('t.deviceId', '=', 'p.deviceId')
    .returning(['t.deviceId', 't.attempts']).execute();
}

/** The wave's targets now running their commands; one statement for any number. */
export async function setTargetsRunning(tx: SqlExecutor, jobId: string, started: readonly { deviceId: string; commandId: string }[]): Promise<void> {
  if (started.length === 0) return;
  await typed(tx).updateTable('bulkJobTargets as t')
    .set({ status: sql.lit('running'), commandId: sql<string>`u.command_id`, exitCode: null, error: null, updatedAt: sql<Date>`NOW()` })
    .from(sql<{ deviceId: string; commandId: string }>`unnest(${started.map((s) => s.deviceId)}::uuid[], ${started.map((s) => s.commandId)}::uuid[])`
      .as<'u'>(sql`u(device_id, command_id)`))
    .where('t.jobId', '=', jobId).whereRef('t.deviceId', '=', 'u.deviceId')
    .execute();
}

/** Targets that got no command (the device is gone, waits for approval, lacks the shell): failed, no retry. */
export async function failTargets(tx: SqlExecutor, jobId: string, refused: readonly { deviceId: string; error: string }[]): Promise<void> {
  if (refused.length === 0) return;
  await typed(tx).updateTable('bulkJobTargets as t')
    .set({ status: sql.lit('failed'), error: sql<string>`u.error`, updatedAt: sql<Date>`NOW()` })
    .from(sql<{ deviceId: string; error: string }>`unnest(${refused.map((r) => r.deviceId)}::uuid[], ${refused.map((r) => r.error)}::text[])`
      .as<'u'>(sql`u(device_id, error)`))
    .where('t.jobId', '=', jobId).whereRef('t.deviceId', '=', 'u.deviceId')
    .execute();
}

/** Every target not started yet fails with `error` (the requester may no longer run the job). */
export async function failPending(tx: SqlExecutor, jobId: string, error: string): Promise<void> {
  await typed(tx).updateTable('bulkJobTargets')
    .set({ status: sql.lit('failed'), error, updatedAt: sql<Date>`NOW()` })
    .where('jobId', '=', jobId).where('status', 'in', [sql.lit('pending'), sql.lit('enqueued')]).execute();
}


/**
 * Running targets whose command is final take its outcome: succeeded, back to pending for a
 * retry (tries left and the job running; the backoff counts from now), skipped (the job was
 * cancelled meanwhile) or failed. `commandIds` null: every such target (the re-drive after a crash).
 * One statement; returns the targets it changed.
 */
export async function settleFinished(db: SqlExecutor, commandIds: readonly string[] | null): Promise<{ jobId: string; status: TargetStatus; attempts: number }[]> {
  return typed(db).updateTable('bulkJobTargets as t')
    .from('commands as c').innerJoin('bulkJobs as j', 'j.id', 'c.bulkJobId')
    .set((eb) => {
      const ok = sql<boolean>`${eb.ref('c.status')} = 'succeeded'`;
      const triesLeft = sql<boolean>`${eb.ref('t.attempts')} < ${eb.ref('j.maxAttempts')}`;
      return {
        status: sql<TargetStatus>`CASE WHEN ${ok} THEN 'succeeded' WHEN ${triesLeft} AND ${eb.ref('j.status')} = 'running' THEN 'pending'
          WHEN ${triesLeft} THEN 'skipped' ELSE 'failed' END`,
        exitCode: sql<number | null>`${eb.ref('c.exitCode')}`,
        error: sql<string | null>`CASE WHEN ${ok} THEN NULL WHEN ${triesLeft} AND ${eb.ref('j.status')} <> 'running' THEN 'Job cancelled'
          ELSE COALESCE(${eb.ref('c.error')}, 'Command ' || ${eb.ref('c.status')} || COALESCE(' with exit code ' || ${eb.ref('c.exitCode')}, '')) END`,
        updatedAt: sql<Date>`NOW()`,
      };
    })
    .$if(commandIds !== null, (query) => query.where('c.id', '=', anyUuid(commandIds!)))
    .where('c.status', 'in', FINAL_STATUSES)
    .whereRef('t.jobId', '=', 'c.bulkJobId').whereRef('t.deviceId', '=', 'c.deviceId').whereRef('t.commandId', '=', 'c.id')
    .where('t.status', '=', sql.lit('running'))
    .returning(['t.jobId', 't.status', 't.attempts']).$narrowType<{ status: TargetStatus }>().execute();
}

/**
 * Running jobs the re-drive should look at: with a pending target whose backoff is over, or
 * with nothing left to run (their completion was not recorded). At most `limit`, oldest first.
 */
export async function jobsToDrive(db: SqlExecutor, backoffMs: number, limit: number): Promise<string[]> {
  const rows = await typed(db).selectFrom('bulkJobs as j').select('j.id')
    .where('j.status', '=', sql.lit('running'))
    .where((eb) => eb.or([
      eb.exists(eb.selectFrom('bulkJobTargets').select(sql.lit(1).as('one')).whereRef('jobId', '=', 'j.id')
        .where('status', '=', sql.lit('pending')).where(backoffOver(backoffMs))),
      eb.not(eb.exists(eb.selectFrom('bulkJobTargets').select(sql.lit(1).as('one')).whereRef('jobId', '=', 'j.id')
        .where('status', 'in', UNFINISHED_TARGETS))),
    ]))
    .orderBy('j.createdAt').limit(limit).execute();
  return rows.map((row) => row.id);
}

/** Targets left `enqueued` by the queue-per-device design (work lost with an old instance): pending again, their try not counted. */
export async function releaseStaleEnqueued(db: SqlExecutor, olderThanSec: number): Promise<void> {
  await typed(db).updateTable('bulkJobTargets')
    .set((eb) => ({ status: sql.lit('pending'), attempts: sql<number>`GREATEST(${eb.ref('attempts')} - 1, 0)` }))
    .where('status', '=', sql.lit('enqueued')).where('updatedAt', '<', sql<Date>`NOW() - make_interval(secs => ${olderThanSec})`)
    .execute();
}
