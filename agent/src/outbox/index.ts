export { openOutbox, type OpenOutboxOptions } from './outbox.ts';
export { readOutboxStats } from './read-stats.ts';
export type { Outbox, OutboxStats, NewRecord, AppendResult } from './types.ts';
