import type { OutboxRecord } from '@ninjait/shared';
import type { AuthenticatedDevice } from '../devices/index.ts';

/** One agent push waiting for the group it commits with. */
export interface PendingPush {
  device: AuthenticatedDevice;
  records: readonly OutboxRecord[];
  sourceIp: string | null;
  receivedAt: number;
  resolve: (ackSeq: number) => void;
  reject: (error: unknown) => void;
}

export interface PushGroups {
  /** Queues a push (its records in sequence order); resolves with what its group's commit acks. */
  append(device: AuthenticatedDevice, records: readonly OutboxRecord[], sourceIp: string | null): Promise<number>;
  /** Waits for pushes already queued to commit. */
  flush(): Promise<void>;
}

/**
 * Group commit, whatever the log: pushes that arrive while a commit runs (or within
 * `groupCommitMs`) are handed to `commit` together, one group at a time, so throughput grows
 * with load instead of paying one durable write per push. `commit` answers every push it is
 * given (resolve or reject) and never throws.
 */
export function createPushGroups(groupCommitMs: number, commit: (group: PendingPush[]) => Promise<void>): PushGroups {
  let pending: PendingPush[] = [];
  let committing: Promise<void> | null = null;
  let timer: NodeJS.Timeout | null = null;

  const schedule = () => {
    if (committing || timer) return;
    timer = setTimeout(() => {
      timer = null;
      const group = pending;
      pending = [];
      committing = commit(group).finally(() => {
        committing = null;
        if (pending.length > 0) schedule();
      });
    }, groupCommitMs);
  };

  return {
    append(device, records, sourceIp) {
      return new Promise<number>((resolve, reject) => {
        const ordered = records.every((record, i) => i === 0 || records[i - 1]!.seq < record.seq)
          ? records
          : [...records].sort((a, b) => a.seq - b.seq);
        pending.push({ device, records: ordered, sourceIp, receivedAt: performance.now(), resolve, reject });
        schedule();
      });
    },
    async flush() {
      while (pending.length > 0 || committing || timer) {
        await (committing ?? new Promise((resolve) => setTimeout(resolve, groupCommitMs + 1)));
      }
    },
  };
}
