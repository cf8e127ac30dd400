import type { RelationalStore, SqlExecutor } from '../../stores/relational/index.ts';
import type { Logger } from '../../platform/obs/logger.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import { writeCommandAudit, type Auditor, assertScript, awaitingApproval, type Requester, assertShellSupported, defaultShell, type CommandService, type InsertedMany, type Interpreter, type Shell } from '../commands/index.ts';
import { backoffMs as retryBackoffMs, roleAtLeast, type Role } from '@ninjait/shared';
import { findUser } from '../auth/index.ts';
import {
  MAX_RETRY_BACKOFF_MS, claimWave, completeIfDone, countTargets, failPending, failTargets, getJob, insertJob, insertTargets, jobsToDrive, listTargets, lockRunningJob,
  markJobCancelled, releaseStaleEnqueued, selectJobDevices, setTargetsRunning, settleFinished, skipUnstartedTargets, type BulkJob,
} from './bulk-repository.ts';
import type { TargetWork } from '../../stores/queue/types.ts';
import type { Job } from '../../platform/scheduler/scheduler.ts';

/** A retried device waits this long after its first try, doubling with each further try. */
export const RETRY_BACKOFF_MS = 1_000;
/** How often one instance of the fleet re-drives jobs a crash left behind (see `redrive`). */
const REDRIVE_MS = 5_000;
/**
 * How long a drive gathers results before the next wave: results arrive by the hundred, each
 * asking for a wave, and one wave for all of them costs its few statements once, not per device.
 */
const WAVE_GATHER_MS = 25;
/** Commands one wave hands over at most, unless configured: the largest concurrency a job may ask for. */
const DEFAULT_WAVE_SIZE = 1_000;
/** Per-device results one status answer carries unless asked for another page. */
export const TARGETS_PAGE = 100;
/** Jobs one re-drive looks at. */
const REDRIVE_JOBS = 100;
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

/** Which of a job's per-device results (ordered by device name) a status answer carries. */
export interface TargetPage {
  offset: number;
  limit: number;
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
 * Bulk jobs ("patch deployment"): a script run on many devices, as a fan-out. The job and one row
 * per device live in PostgreSQL. A wave claims as many pending devices as the job's concurrency
 * leaves free, inserts their commands and sets them running in one transaction (the job's row
 * locked, so waves of one job on any instance take turns and the cap holds), then hands the
 * commands to the devices. A command that becomes final settles its device's row in the
 * transaction that records it (`settle`, the commands' finished hook), and the freed slots start
 * the next wave. A failed try with tries left goes back to pending with a backoff. A periodic,
 * exclusive re-drive picks up what a crashed instance left: targets whose command finished
 * unsettled, jobs with free slots and pending targets, completions not recorded.
 */
export function createBulkJobService(deps: {
  db: RelationalStore; commands: CommandService; log: Logger; audit: Auditor; backoffMs?: number;
  /**
   * Commands one wave hands over at most (BULK_WAVE_SIZE). Their devices' reports are group
   * commits (a thousand at once used to outrun the database pool's 5 s wait as a thousand
   * transactions); at 10,000 devices, waves of 1,000 took 25.7 s where waves of 100 took 55.3 s.
   */
  waveSize?: number;
}) {
  const { db, commands, log } = deps;
  const backoffMs = deps.backoffMs ?? RETRY_BACKOFF_MS;
  const waveSize = deps.waveSize ?? DEFAULT_WAVE_SIZE;
  /** Jobs whose drive runs here, and whether another was asked meanwhile (it runs once the current wave ends). */
  const driving = new Map<string, { again: boolean; run: Promise<void> }>();
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;

  const requesterOf = (job: BulkJob): Requester & { organizationId: string } => ({
    userId: job.requestedBy, label: `${job.requestedByLabel} (bulk job ${job.id})`, organizationId: job.organizationId, ip: null,
  });

  /** One wave of the job: returns how many devices were refused a command (their slots are free again at once). */
  async function wave(jobId: string): Promise<number> {
    const inserted = await db.transaction(async (tx): Promise<InsertedMany | null> => {
      const job = await lockRunningJob(tx, jobId);
      if (!job) return null;
      // The requester's authority is checked once per wave: a removed or demoted one starts nothing more.
      const refusal = await requesterRefusal(tx, job);
      if (refusal) {
        await failPending(tx, jobId, refusal);
        return null;
      }
      const claimed = await claimWave(tx, jobId, job.concurrency, backoffMs, waveSize);
      if (claimed.length === 0) return null;
      const batch = await commands.insertMany(tx, requesterOf(job), {
        bulkJobId: job.id, deviceIds: claimed.map((target) => target.deviceId), shell: job.shell, interpreter: job.interpreter,
        script: job.script, env: job.env, timeoutSec: job.timeoutSec, expiresInSec: job.expiresInSec,
      });
      await setTargetsRunning(tx, jobId, batch.commands.map(({ command }) => ({ deviceId: command.deviceId, commandId: command.id })));
      await failTargets(tx, jobId, batch.refused);
      return batch;
    });
    if (inserted) await commands.handOverMany(inserted);
    if (!inserted || inserted.commands.length === 0) {
      if (await completeIfDone(db, jobId)) log.info({ jobId }, 'bulk job completed');
    }
    return inserted?.refused.length ?? 0;
  }

  /**
   * Runs waves of the job until one starts nothing more; one drive per job on this instance, and
   * a request meanwhile runs another wave after it. Resolves when the job's waves here are done.
   */
  function drive(jobId: string): Promise<void> {
    const current = driving.get(jobId);
    if (current) {
      current.again = true;
      return current.run;
    }
    const state = { again: false, run: Promise.resolve() };
    driving.set(jobId, state);
    state.run = (async () => {
      try {
        for (;;) {
          state.again = false;
          const refused = await wave(jobId);
          // A wave fills the free slots; another only when refused devices freed some, or a result asked meanwhile.
          if (closed || (refused === 0 && !state.again)) break;
          if (refused === 0) await new Promise((resolve) => setTimeout(resolve, WAVE_GATHER_MS));
        }
      } catch (error) {
        log.warn({ err: error, jobId }, 'bulk job wave failed; the periodic re-drive retries it');
      } finally {
        driving.delete(jobId);
      }
    })();
    return state.run;
  }

  const later = (jobId: string, ms: number) => {
    if (closed) return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      void drive(jobId);
    }, ms + 20);
    timer.unref();
    timers.add(timer);
  };

  /** The commands' finished hook: settles the targets in the caller's transaction; after its commit, drives their jobs. */
  async function settle(tx: SqlExecutor, commandIds: string[]): Promise<() => void> {
    const settled = await settleFinished(tx, commandIds);
    return () => void afterSettled(settled);
  }

  /** Drives the jobs of settled targets (resolves when their waves here are done); a retry's job again when its backoff is over. */
  function afterSettled(settled: { jobId: string; status: string; attempts: number }[]): Promise<void> {
    for (const target of settled) if (target.status === 'pending') later(target.jobId, retryBackoffMs(target.attempts - 1, { baseMs: backoffMs, maxMs: MAX_RETRY_BACKOFF_MS, jitter: 'none' }));
    return Promise.all([...new Set(settled.map((target) => target.jobId))].map(drive)).then(() => undefined);
  }

  /** What a crashed instance left: unsettled finished commands, jobs with free slots and due targets, unrecorded completions. */
  async function redrive(): Promise<void> {
    await releaseStaleEnqueued(db, 600);
    await afterSettled(await settleFinished(db, null));
    for (const jobId of await jobsToDrive(db, backoffMs, REDRIVE_JOBS)) await drive(jobId);
  }

  commands.onFinished(settle);

  /**
   * The job, its progress and a page of per-device results: a job of 10,000 devices polled by a
   * console is counted in the database, not listed whole on every refresh.
   */
  async function status(organizationId: string | null, jobId: string, page: TargetPage = { offset: 0, limit: TARGETS_PAGE }) {
    const job = await getJob(db, organizationId, jobId);
    if (!job) throw notFound('Job');
    const [counts, targets] = await Promise.all([countTargets(db, jobId), listTargets(db, jobId, page)]);
    const done = counts.succeeded + counts.failed + counts.skipped;
    return { ...job, counts, progress: { done, total: job.total, percent: job.total ? Math.round((done / job.total) * 100) : 100 }, targets };
  }

  return {
    /** Work queued for a bulk-job target before the fan-out (an upgrade): drives its job. */
    handle: (work: TargetWork) => drive(work.jobId),
    /** Starts the job's next waves now (tests, the re-drive). */
    drive,
    /** The periodic re-drive, on one instance of the fleet at a time. */
    jobs: (): Job[] => [{ name: 'bulk-job-redrive', everyMs: REDRIVE_MS, exclusive: true, run: redrive }],
    redrive,

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
      // The first wave starts behind the answer; a crash before it is the re-drive's.
      void drive(job.id);
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

    /** Stops the retry timers and waits for the waves in progress. */
    async close() {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await Promise.allSettled([...driving.values()].map((state) => state.run));
    },
  };
}
export type BulkJobService = ReturnType<typeof createBulkJobService>;
