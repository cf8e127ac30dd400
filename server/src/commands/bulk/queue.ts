/** One device of one bulk job: the unit of work on the `patch-deployment` queue. */
export interface TargetWork {
  jobId: string;
  deviceId: string;
}

export interface EnqueueOptions {
  /** Tries in all, the first included. */
  attempts: number;
  /** First retry delay; doubles each retry. */
  backoffMs: number;
}

/** Runs one target; `attempt` counts from 1. Throwing asks the queue to retry (if attempts remain). */
export type TargetHandler = (work: TargetWork, attempt: number, signal: AbortSignal) => Promise<void>;

/**
 * The work queue port: BullMQ on Redis when REDIS_URL is set (every instance works on it),
 * an in-process queue otherwise, with the same retry and concurrency semantics.
 */
export interface WorkQueue {
  readonly engine: 'bullmq' | 'memory';
  /** Adding the same target twice while it is waiting is a no-op (the job id is the target). */
  add(work: TargetWork, options: EnqueueOptions): Promise<void>;
  start(handler: TargetHandler, concurrency: number): void;
  close(): Promise<void>;
}

export const QUEUE_NAME = 'patch-deployment';
export const workId = (work: TargetWork) => `${work.jobId}.${work.deviceId}`;
