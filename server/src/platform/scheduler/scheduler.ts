import type { Logger } from '../obs/logger.ts';
import { every, type Periodic } from './every.ts';

const MINUTE_MS = 60_000;

/** A periodic job a feature hands to the scheduler. */
export interface Job {
  /** Unique; names the lease, the log lines and the failure metric's label. */
  name: string;
  everyMs: number;
  run(): Promise<unknown>;
  /**
   * Only one instance of the fleet runs it at a time (delete-then-insert rollups, ETL cursors):
   * the run happens while this instance holds the job's lease, and is skipped otherwise.
   */
  exclusive?: boolean;
  /** Also run once right after start (a sample that should not wait a whole interval). */
  atStart?: boolean;
}

/** Named leases shared by the instances (the relational store's job_leases): the port the scheduler needs. */
export interface JobLeases {
  /** True when `owner` now holds `name` for `leaseMs`: it was free, expired, or already ours. */
  acquire(name: string, owner: string, leaseMs: number): Promise<boolean>;
  release(name: string, owner: string): Promise<void>;
}

export interface Scheduler {
  /** Adds jobs; once started, they start at once. A name registered twice is a wiring bug and throws. */
  register(...jobs: Job[]): void;
  start(): void;
  /** Stops every timer and waits for the runs in progress. */
  stop(): Promise<void>;
  readonly names: readonly string[];
}

/**
 * The one place periodic work runs: each job never overlaps itself, a failure is logged and the
 * next run goes ahead, and exclusive jobs run on one instance at a time.
 */
export function createScheduler(deps: { log: Logger; instanceId: string; leases: JobLeases }): Scheduler {
  const { log, instanceId, leases } = deps;
  const jobs = new Map<string, Job>();
  const running: Periodic[] = [];
  let started = false;

  // A lease outlives the interval so a slow run is not joined by another instance; at least two minutes.
  const leaseMs = (job: Job) => Math.max(job.everyMs, MINUTE_MS) * 2;
  const runOnce = async (job: Job) => {
    if (!job.exclusive) return job.run();
    if (!(await leases.acquire(job.name, instanceId, leaseMs(job)))) return;
    try {
      await job.run();
    } finally {
      await leases.release(job.name, instanceId);
    }
  };
  const launch = (job: Job) => {
    // Each job at a phase of its own within its interval: first run no later than before, never in step with the others.
    running.push(every(job.everyMs, job.name, log, () => runOnce(job), Math.floor(Math.random() * job.everyMs)));
    if (job.atStart) runOnce(job).catch((error: unknown) => log.warn({ err: error, job: job.name }, 'periodic job failed'));
  };

  return {
    register(...added) {
      for (const job of added) {
        if (jobs.has(job.name)) throw new Error(`Periodic job "${job.name}" is registered twice`);
        jobs.set(job.name, job);
        if (started) launch(job);
      }
    },
    start() {
      if (started) return;
      started = true;
      jobs.forEach(launch);
    },
    async stop() {
      started = false;
      await Promise.all(running.splice(0).map((periodic) => periodic.stop()));
    },
    get names() {
      return [...jobs.keys()];
    },
  };
}
