import type { OutboxRecord } from '@ninjait/shared';

/** A record before the outbox numbers it. */
export type NewRecord = OutboxRecord extends infer R ? (R extends OutboxRecord ? Omit<R, 'seq'> : never) : never;

/** Counters the heartbeat and `status` report. */
export interface OutboxStats {
  bufferedRecords: number;
  /** Sum of stored body bytes: what `bufferMaxMb` caps. */
  bufferedBytes: number;
  /** Records removed unsent: by the cap, because the server refused them, or too old to send (MAX_RECORD_AGE_MS). */
  droppedTotal: number;
  nextSeq: number;
  /** `collectedAt` of the oldest buffered record, or null when empty. */
  oldestCollectedAt: number | null;
}

/** What `append` did. */
export interface AppendResult {
  seq: number;
  /** How many of the oldest records the cap dropped to make room. */
  dropped: number;
}

/** The agent's durable, bounded queue of records waiting for the server's ack. */
export interface Outbox {
  /** Validates, numbers and stores a record in one transaction, then enforces the cap. */
  append(record: NewRecord): AppendResult;
  /** `append` for many records in one transaction (one fsync): all or none are stored. */
  appendMany(records: NewRecord[]): AppendResult[];
  /**
   * The oldest records, at most `limit` and about `maxBytes` serialized (always at least one).
   * Records older than the maximum age are dropped first, counted as dropped: never sent.
   */
  oldest(limit: number, maxBytes: number): OutboxRecord[];
  /** Deletes every record with `seq <= ackSeq`; returns how many went. */
  ackUpTo(ackSeq: number): number;
  /** Removes one record unsent (the server refuses it), counting it as dropped. */
  discard(seq: number): boolean;
  /**
   * Continues the sequence where the server says it is, after (re-)enrollment.
   * `resequence` renumbers buffered records from `nextSeq` (a new device identity, which has
   * none of them); otherwise records below `nextSeq` are taken as already logged and deleted.
   */
  seed(nextSeq: number, opts: { resequence: boolean }): void;
  stats(): OutboxStats;
  close(): void;
}
