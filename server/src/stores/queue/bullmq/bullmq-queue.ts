import { Queue, Worker } from 'bullmq';
import type { Logger } from '../../../platform/obs/logger.ts';
import { QUEUE_NAME, workId, type EnqueueOptions, type TargetWork, type WorkQueue } from '../types.ts';

/** Finished BullMQ jobs kept for inspection; the per-device results live in PostgreSQL. */
const KEEP_FINISHED = { count: 1_000 };

/**
 * BullMQ queue `patch-deployment` on Redis: every instance runs a worker, so targets spread
 * across instances; a crashed worker's jobs are picked up again when their lock lapses.
 */
export function createBullmqQueue(options: { redisUrl: string; prefix: string; log: Logger }): WorkQueue {
  const connection = { url: options.redisUrl, maxRetriesPerRequest: null };
  const queue = new Queue<TargetWork>(QUEUE_NAME, { connection, prefix: options.prefix });
  queue.on('error', (error) => options.log.warn({ err: error }, 'bulk queue error'));
  let worker: Worker<TargetWork> | null = null;
  const stopping = new AbortController();

  const jobOf = (work: TargetWork, enqueue: EnqueueOptions) => ({
    name: work.kind ?? 'target',
    data: work,
    opts: {
      jobId: workId(work),
      attempts: enqueue.attempts,
      backoff: { type: 'exponential', delay: enqueue.backoffMs },
      removeOnComplete: KEEP_FINISHED,
      removeOnFail: KEEP_FINISHED,
    },
  });

  return {
    engine: 'bullmq',
    async add(work, enqueue) {
      const { name, data, opts } = jobOf(work, enqueue);
      await queue.add(name, data, opts);
    },
    async addMany(works, enqueue) {
      // One MULTI for the lot; a job id already waiting is skipped by BullMQ, as with add.
      if (works.length > 0) await queue.addBulk(works.map((work) => jobOf(work, enqueue)));
    },
    start(handler, concurrency) {
      worker = new Worker<TargetWork>(
        QUEUE_NAME,
        async (job, _token, signal) => handler(job.data, job.attemptsMade + 1, signal ?? stopping.signal),
        { connection, prefix: options.prefix, concurrency },
      );
      worker.on('error', (error) => options.log.warn({ err: error }, 'bulk worker error'));
    },
    async close() {
      stopping.abort();
      // Not waiting for running targets: their jobs go back to the queue and another instance resumes them.
      await worker?.close(true);
      await queue.close();
    },
  };
}
