import type { IngestRow, WriteResult } from './sinks/types.ts';

export type WriteFailure = Extract<WriteResult, { ok: false }>;

/** What became of one row of a batch that failed as a whole. */
export type RowOutcome =
  | { kind: 'stored' }
  /** The sink left it out: no retry can make it storable. */
  | { kind: 'rejected'; reason: string }
  /** It fails even when written alone. */
  | { kind: 'failed'; failure: WriteFailure }
  /** The write budget ran out before this row was tried. */
  | { kind: 'untried' };

export interface HalvingOptions {
  write: (rows: readonly IngestRow[]) => Promise<WriteResult>;
  /** Writes one isolation may make: a batch where every row fails costs two writes per row to isolate. */
  maxWrites: number;
  signal: AbortSignal;
}

/**
 * Writes a batch that failed as a whole again in halves, in log order: a part that writes is
 * done, a part that fails is split, until each row is stored, rejected by the sink, or fails on
 * its own. One bad row among n costs about 2·log2(n) writes; the rest of the batch is written.
 */
export async function writeInHalves(batch: readonly IngestRow[], options: HalvingOptions): Promise<RowOutcome[]> {
  const outcomes: RowOutcome[] = batch.map(() => ({ kind: 'untried' }));
  const index = new Map(batch.map((row, i) => [row, i]));
  const parts: IngestRow[][] = halves(batch);
  let writes = 0;
  while (parts.length > 0 && writes < options.maxWrites && !options.signal.aborted) {
    const part = parts.shift()!;
    const result = await options.write(part);
    writes++;
    if (result.ok) {
      for (const row of part) outcomes[index.get(row)!] = { kind: 'stored' };
      for (const { row, reason } of result.rejected ?? []) {
        const at = index.get(row);
        if (at !== undefined) outcomes[at] = { kind: 'rejected', reason };
      }
    } else if (part.length > 1) {
      parts.unshift(...halves(part));
    } else {
      outcomes[index.get(part[0]!)!] = { kind: 'failed', failure: result };
    }
  }
  return outcomes;
}

function halves(rows: readonly IngestRow[]): IngestRow[][] {
  if (rows.length <= 1) return rows.length === 1 ? [[...rows]] : [];
  const middle = Math.ceil(rows.length / 2);
  return [rows.slice(0, middle), rows.slice(middle)];
}

/** A quarantine reason from a store's error. */
export function failureReason(sink: string, failure: WriteFailure): string {
  return `the ${sink} store refused it: ${failure.error.message}`;
}
