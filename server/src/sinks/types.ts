import type { Inventory, MetricSample } from '@ninjait/shared';
import type { StoreHealth } from '../stores/types.ts';

/** One row of the ingest log as drainers see it. */
export type IngestRow = {
  id: number;
  deviceId: string;
  organizationId: string;
  seq: number;
  collectedAt: Date;
  receivedAt: Date;
  sourceIp: string | null;
} & ({ kind: 'sample'; payload: MetricSample } | { kind: 'inventory'; payload: Inventory });

/** Failure is a value: the drainer decides to retry, the sink only says whether it may help. */
export type WriteResult = { ok: true } | { ok: false; retryable: boolean; error: Error };

/**
 * A destination of the ingest log. `write` must be idempotent: after a crash the drainer
 * replays from its cursor, so the same rows can arrive twice.
 */
export interface Sink {
  readonly name: string;
  init(): Promise<void>;
  write(batch: readonly IngestRow[], signal: AbortSignal): Promise<WriteResult>;
  health(): Promise<StoreHealth>;
  close(): Promise<void>;
}

export function failure(error: unknown, retryable = true): WriteResult {
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
