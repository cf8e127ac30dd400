/** Kinds of work on the queue: one device of a bulk script job, or one device's patch deployment. */
export type WorkKind = 'bulk-target' | 'deploy-patch';

/**
 * One device of one job: the unit of work on the `patch-deployment` queue. For `deploy-patch`
 * the job is the deployment and `patchIds` the updates it installs (also stored with it).
 */
export interface TargetWork {
  jobId: string;
  deviceId: string;
  /** Absent: a bulk-job target (work queued before kinds existed has none). */
  kind?: WorkKind;
  patchIds?: string[];
  /** Which try of the deployment this is: each try is new work, so a finished try never hides the next. */
  round?: number;
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
  /** `add` of many in one round trip: a fleet-wide job's first wave is a thousand targets. */
  addMany(works: readonly TargetWork[], options: EnqueueOptions): Promise<void>;
  start(handler: TargetHandler, concurrency: number): void;
  close(): Promise<void>;
}

export const QUEUE_NAME = 'patch-deployment';
export const workId = (work: TargetWork) => work.kind === 'deploy-patch'
  ? `deploy-patch.${work.jobId}.${work.round ?? 1}`
  : `${work.jobId}.${work.deviceId}`;

/** One handler for the queue that hands each work item to the handler of its kind. */
export function routeWork(handlers: Record<WorkKind, TargetHandler>): TargetHandler {
  return (work, attempt, signal) => handlers[work.kind ?? 'bulk-target'](work, attempt, signal);
}
