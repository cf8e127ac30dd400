import type { Inventory, MetricSample } from '@ninjait/shared';
import type { StoreHealth } from '../../../stores/types.ts';
import { isRetryableWriteError } from './classify.ts';

/**
 * One row of the ingest log as drainers see it. A row read back from the log parses its payload
 * at each read of `payload` (log-repository.ts): read it once per row and keep what you need.
 */
export type IngestRow = {
  id: number;
  deviceId: string;
  organizationId: string;
  seq: number;
  collectedAt: Date;
  receivedAt: Date;
  sourceIp: string | null;
} & ({ kind: 'sample'; payload: MetricSample } | { kind: 'inventory'; payload: Inventory });

/** A row a sink left out because no retry can make it storable; the drainer quarantines it. */
export interface RejectedRow {
  row: IngestRow;
  /** For the person reading the quarantine: what is wrong with the row. */
  reason: string;
}

/**
 * Failure is a value: the drainer decides to retry, the sink only says whether it may help.
 * A success may name rows the sink left out (`rejected`): the rest of the batch was written.
 */
export type WriteResult =
  | { ok: true; rejected?: readonly RejectedRow[] }
  | { ok: false; retryable: boolean; error: Error };

/**
 * A destination of the ingest log. `write` must be idempotent: after a crash the drainer
 * replays from its cursor, so the same rows can arrive twice.
 */
export interface Sink {
  readonly name: string;
  init(): Promise<void>;
  /**
   * The drainer has just taken (or taken again) this sink's lease: another instance may have
   * written in between, so what the sink remembers of the store's state is to be read again.
   * A drainer that never calls it holds no lease (others may write beside it): the sink must not
   * take itself for the only writer.
   */
  leaseTaken?(): void;
  /** Never throws: every failure, and every row left out, is in the result. */
  write(batch: readonly IngestRow[], signal: AbortSignal): Promise<WriteResult>;
  health(): Promise<StoreHealth>;
  close(): Promise<void>;
}

/** A write that went through; `rejected` names the rows left out, if any. */
export function success(rejected: readonly RejectedRow[] = []): WriteResult {
  return rejected.length > 0 ? { ok: true, rejected } : { ok: true };
}

/** A failed write; whether a retry may help is read from the error unless the sink knows better. */
export function failure(error: unknown, retryable = isRetryableWriteError(error)): WriteResult {
  return { ok: false, retryable, error: error instanceof Error ? error : new Error(String(error)) };
}

/** The newest row of each device in a batch, optionally of one kind. */
export function latestPerDevice<K extends IngestRow['kind']>(batch: readonly IngestRow[], kind?: K): Map<string, Extract<IngestRow, { kind: K }>> {
  const latest = new Map<string, Extract<IngestRow, { kind: K }>>();
  for (const row of batch) {
    if (kind && row.kind !== kind) continue;
    const current = latest.get(row.deviceId);
    if (!current || current.seq < row.seq) latest.set(row.deviceId, row as Extract<IngestRow, { kind: K }>);
  }
  return latest;
}
