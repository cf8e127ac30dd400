export { createBulkJobService, JOB_RUN_ROLE, type BulkJobService, type NewBulkJob, type TargetPage } from './bulk-service.ts';
export { targetPageFields } from './jobs.router.ts';
export { createMemoryQueue } from '../../stores/queue/memory/memory-queue.ts';
export { QUEUE_NAME, routeWork, type WorkQueue, type TargetWork, type TargetHandler } from '../../stores/queue/types.ts';
