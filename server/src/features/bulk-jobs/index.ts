export { createBulkJobService, JOB_RUN_ROLE, type BulkJobService, type NewBulkJob } from './bulk-service.ts';
export { createMemoryQueue } from '../../stores/queue/memory/memory-queue.ts';
export { QUEUE_NAME, routeWork, type WorkQueue, type TargetWork, type TargetHandler } from '../../stores/queue/types.ts';
