import type { RelationalStore, SqlExecutor } from '../../stores/relational/index.ts';
import type { Logger } from '../../platform/obs/logger.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import { writeCommandAudit, type Auditor, assertScript, awaitingApproval, type Requester, assertShellSupported, defaultShell, type CommandService, type Interpreter, type Shell } from '../commands/index.ts';
import { roleAtLeast, type Role } from '@ninjait/shared';
import { findUser } from '../auth/index.ts';
import {
  claimPending, completeIfDone, getJob, getTarget, insertJob, insertTargets, listTargets, markJobCancelled, selectJobDevices, skipUnstartedTargets,
  updateTarget, type BulkJob,
} from './bulk-repository.ts';
import type { TargetWork, WorkQueue } from '../../stores/queue/types.ts';

const RETRY_BACKOFF_MS = 1_000;
/** Who may start a job, and who must still be its requester when each device's turn comes. */
export const JOB_RUN_ROLE: Role = 'technician';

/**
 * The devices a new job runs on: the named ones (each must be the organization's, and approved:
 * nothing reaches a device waiting for approval), or every approved device of the organization.
 */
async function jobDevices(tx: SqlExecutor, organizationId: string, deviceIds: string[] | undefined) {
  const devices = await selectJobDevices(tx, organizationId, deviceIds ?? null);
  if (deviceIds && devices.length !== new Set(deviceIds).size) throw notFound('Device');
  if (deviceIds && devices.some((device) => !device.approved)) throw awaitingApproval();
  return devices.filter((device) => device.approved);
}

/**
 * Why the job's requester may no longer run it, or null: a job acts with its requester's
 * authority at each device's turn, so a removed person, or one moved to another organization or
 * demoted below JOB_RUN_ROLE since, starts nothing more.
 */
async function requesterRefusal(db: SqlExecutor, job: BulkJob): Promise<string | null> {
  const gone = 'The person who started this job no longer belongs to the organization; the remaining devices are not run';
  if (!job.requestedBy) return gone;
  const user = await findUser(db, job.organizationId, job.requestedBy).catch((error: unknown) => {
    if (error instanceof AppError && error.code === 'NOT_FOUND') return null;
    throw error;
  });
  if (!user) return gone;
  if (!roleAtLeast(user.role, JOB_RUN_ROLE)) {
    return `The person who started this job is now a ${user.role} (running it needs ${JOB_RUN_ROLE}); the remaining devices are not run`;
  }
  return null;
}

export interface NewBulkJob {
  name?: string | undefined;
  /** Every device of the organization, or this list. */
  deviceIds?: string[] | undefined;
  shell?: Shell | undefined;
  interpreter?: Interpreter | undefined;
  script: string;
  /** Environment variables for every device's command (script parameters); never part of the script text. */
  env?: Record<string, string> | undefined;
  timeoutSec: number;
  expiresInSec: number;
  /** Devices of this job running at once. */
  concurrency: number;
  /** Extra tries for a device whose command did not succeed. */
  retries: number;
}

/**
 * Bulk jobs ("patch deployment"): a script run on many devices. The job and one row per device
 * live in PostgreSQL; a device becomes queue work when the job's concurrency allows, and each
 * finished device lets the next pending one in, so the job's concurrency holds across instances.
 */
export function createBulkJobService(deps: {
  db: RelationalStore; commands: CommandService; queue: WorkQueue; log: Logger; audit: Auditor;
}) {
  const { db, commands, queue, log } = deps;

  const enqueue = async (job: Pick<BulkJob, 'id' | 'maxAttempts'>, count: number) => {
    const deviceIds = await claimPending(db, job.id, count);
    await queue.addMany(deviceIds.map((deviceId) => ({ jobId: job.id, deviceId })), { attempts: job.maxAttempts, backoffMs: RETRY_BACKOFF_MS });
  };

  const requesterOf = (job: BulkJob): Requester => ({
    userId: job.requestedBy, label: `${job.requestedByLabel} (bulk job ${job.id})`, organizationId: job.organizationId, ip: null,
  });

  /** One device of a job: runs the command (or resumes waiting for the one this attempt started), records the result. */
  async function handle(work: TargetWork, attempt: number, signal: AbortSignal): Promise<void> {
    const job = await getJob(db, null, work.jobId);
    const target = await getTarget(db, work.jobId, work.deviceId);
    if (!job || !target || ['succeeded', 'failed', 'skipped'].includes(target.status)) return;
    if (job.status === 'cancelled') {
      await updateTarget(db, job.id, work.deviceId, { status: 'skipped', error: 'Job cancelled' });
      return;
    }
    let commandId = target.status === 'running' && target.attempts === attempt ? target.commandId : null;
    try {
      if (!commandId) {
        const refusal = await requesterRefusal(db, job);
        if (refusal) throw new AppError('FORBIDDEN', refusal);
        const command = await commands.run(requesterOf(job), {
          deviceId: work.deviceId, shell: job.shell, interpreter: job.interpreter ?? undefined, script: job.script, env: job.env ?? undefined,
          timeoutSec: job.timeoutSec, expiresInSec: job.expiresInSec, bulkJobId: job.id,
        });
        commandId = command.id;
        await updateTarget(db, job.id, work.deviceId, { status: 'running', attempts: attempt, commandId, exitCode: null, error: null });
      }
      const result = await commands.waitForResult(commandId, signal);
      const ok = result.status === 'succeeded';
      const last = attempt >= job.maxAttempts;
      const error = ok ? null : result.error ?? `Command ${result.status}${result.exitCode !== null ? ` with exit code ${result.exitCode}` : ''}`;
      await updateTarget(db, job.id, work.deviceId, { status: ok ? 'succeeded' : last ? 'failed' : 'enqueued', exitCode: result.exitCode, error });
      if (!ok && !last) throw new Error(error ?? 'failed');
    } catch (error) {
      if (signal.aborted) throw error;
      // A device gone or refused (decommissioned, OS changed), or a requester without the role, will not get better with retries.
      if (error instanceof AppError) {
        await updateTarget(db, job.id, work.deviceId, { status: 'failed', attempts: attempt, error: error.message });
      } else if (attempt < job.maxAttempts) {
        throw error;
      } else {
        await updateTarget(db, job.id, work.deviceId, { status: 'failed', attempts: attempt, error: (error as Error).message });
      }
    }
    await enqueue(job, 1);
    if (await completeIfDone(db, job.id)) log.info({ jobId: job.id }, 'bulk job completed');
  }

  /** The job, per-device results and progress. */
  async function status(organizationId: string | null, jobId: string) {
    const job = await getJob(db, organizationId, jobId);
    if (!job) throw notFound('Job');
    const targets = await listTargets(db, jobId);
    const counts = { pending: 0, enqueued: 0, running: 0, succeeded: 0, failed: 0, skipped: 0 };
    for (const target of targets) counts[target.status]++;
    const done = counts.succeeded + counts.failed + counts.skipped;
    return { ...job, counts, progress: { done, total: job.total, percent: job.total ? Math.round((done / job.total) * 100) : 100 }, targets };
  }

  return {
    /** The queue's handler for bulk-job targets (the composition routes work by kind). */
    handle,

    async create(requester: Requester & { organizationId: string }, input: NewBulkJob): Promise<BulkJob> {
      assertScript(input.script);
      const job = await db.transaction(async (tx) => {
        const devices = await jobDevices(tx, requester.organizationId, input.deviceIds);
        if (devices.length === 0) throw new AppError('BAD_REQUEST', 'The organization has no devices to run on');
        const shell = input.shell ?? defaultShell(devices[0]!.osType);
        for (const device of devices) assertShellSupported(device.osType, shell);
        const created = await insertJob(tx, {
          organizationId: requester.organizationId, requestedBy: requester.userId, requestedByLabel: requester.label,
          name: input.name ?? `Script on ${devices.length} device(s)`, shell, interpreter: input.interpreter ?? null, script: input.script,
          timeoutSec: input.timeoutSec, expiresInSec: input.expiresInSec, concurrency: input.concurrency, maxAttempts: input.retries + 1,
          total: devices.length, env: input.env && Object.keys(input.env).length > 0 ? input.env : null,
        });
        await insertTargets(tx, created.id, devices.map((device) => device.id));
        return created;
      });
      await writeCommandAudit(deps.audit, {
        organizationId: requester.organizationId, userId: requester.userId, action: 'job.create', resourceId: job.id,
        ipAddress: requester.ip,
        details: { name: job.name, devices: job.total, shell: job.shell, concurrency: job.concurrency, retries: input.retries,
          scriptBytes: Buffer.byteLength(job.script, 'utf8'), script: job.script.slice(0, 4096) },
      });
      await enqueue(job, job.concurrency);
      return job;
    },

    status,

    /** Stops a job: devices not started yet are skipped; commands already running finish. */
    async cancel(requester: Requester & { organizationId: string }, jobId: string) {
      await db.transaction(async (tx) => {
        const job = await getJob(tx, requester.organizationId, jobId);
        if (!job) throw notFound('Job');
        if (job.status !== 'running') throw new AppError('CONFLICT', `The job already ${job.status === 'completed' ? 'completed' : 'was cancelled'}`);
        await markJobCancelled(tx, jobId);
        await skipUnstartedTargets(tx, jobId);
      });
      await writeCommandAudit(deps.audit, {
        organizationId: requester.organizationId, userId: requester.userId, action: 'job.cancel', resourceId: jobId,
        ipAddress: requester.ip, details: { requestedBy: requester.label },
      });
      return status(requester.organizationId, jobId);
    },

    close: () => queue.close(),
  };
}
export type BulkJobService = ReturnType<typeof createBulkJobService>;
