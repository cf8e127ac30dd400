export { createBulkJobService, type BulkJobService, type NewBulkJob } from './bulk-service.ts';
export { createMemoryQueue } from './memory-queue.ts';
export { createBullmqQueue } from './bullmq-queue.ts';
export { QUEUE_NAME, type WorkQueue, type TargetWork } from './queue.ts';
