import { recordingRepository, type RecordingKind } from './recordings.ts';
import type { SqlExecutor } from '../../stores/relational/index.ts';

/** Events and bytes waiting for the database at most: past them an event is dropped and its recording flagged truncated. */
export const MAX_PENDING_EVENTS = 10_000;
export const MAX_PENDING_BYTES = 16 * 1024 * 1024;
/** Events written by one statement. */
const BATCH_EVENTS = 500;

interface Waiting { sessionId: string; kind: RecordingKind; data: string; resolve: (kept: boolean) => void }

/**
 * Terminal recordings written as a group commit: an event is written at once when nothing is
 * being written, and events that arrive meanwhile (every keystroke and output report of every
 * session on this instance) share the next statement. One statement per keystroke and per
 * output report saturated a core at 100 terminals; a lone typist still waits for one round trip.
 * An event is timed as its batch is written: late by its wait, at most one statement.
 * Recording never stands in the way of the terminal: a failed write resolves false, not throws.
 */
export function createRecorder(executor: SqlExecutor) {
  const repository = recordingRepository(executor);
  const pending: Waiting[] = [];
  let pendingBytes = 0;
  let writing = false;
  let dropped = 0;
  /** Sessions that lost an event to the bounds, flagged with the next statement. */
  const truncated = new Set<string>();

  async function write() {
    writing = true;
    try {
      while (pending.length > 0 || truncated.size > 0) {
        const batch = pending.splice(0, BATCH_EVENTS);
        for (const event of batch) pendingBytes -= event.data.length;
        const kept = await repository.appendMany(batch.map((event) => ({ sessionId: event.sessionId, kind: event.kind, data: event.data })))
          .catch(() => null);
        for (const event of batch) event.resolve(kept?.has(event.sessionId) ?? false);
        const flag = [...truncated];
        truncated.clear();
        await repository.markTruncated(flag).catch(() => undefined);
      }
    } finally {
      writing = false;
    }
  }

  return {
    /** Resolves once the event is written (true), or dropped (false: past the cap, the bounds, or a failed write). */
    append(sessionId: string, kind: RecordingKind, data: string): Promise<boolean> {
      if (pending.length >= MAX_PENDING_EVENTS || pendingBytes + data.length > MAX_PENDING_BYTES) {
        dropped += 1;
        truncated.add(sessionId);
        if (!writing) void write();
        return Promise.resolve(false);
      }
      return new Promise<boolean>((resolve) => {
        pending.push({ sessionId, kind, data, resolve });
        pendingBytes += data.length;
        if (!writing) void write();
      });
    },
    /** Events dropped by the bounds since start (the server's metrics read it). */
    dropped: () => dropped,
  };
}
export type Recorder = ReturnType<typeof createRecorder>;
