import { getHeapStatistics } from 'node:v8';

/** Garbage the heap may gather past its last live size before the agent collects it. */
export const HEAP_SLACK_BYTES = 2 * 1024 * 1024;

export interface HeapTrimOptions {
  /** A full, synchronous GC; defaults to the `gc` that `--expose-gc` installs (none: never trims). */
  gc?: (() => void) | undefined;
  heapUsedBytes?: () => number;
  slackBytes?: number;
}

export interface HeapTrimmer {
  /** Call after a unit of work (a collection): collects if the heap grew past the slack. */
  afterWork(): void;
  /** Full GCs run so far. */
  readonly trims: number;
}

/**
 * Keeps the idle agent's heap near its live size. Each collection leaves a little garbage that
 * survives into the old generation, and V8 sizes its next full GC for busy programs: measured
 * at a 30 s interval, the heap went from 8.7 to 12.2 MB in 20 minutes without one (a full GC
 * then found 9.0 MB live), so RSS crept up by several MB an hour. Collecting at 2 MB of slack
 * costs one ~15-60 ms GC every ~8 minutes. The launcher starts `run` with `--expose-gc`;
 * without it (tests, tsx) this does nothing.
 */
export function createHeapTrimmer(opts: HeapTrimOptions = {}): HeapTrimmer {
  const gc = 'gc' in opts ? opts.gc : (globalThis as { gc?: () => void }).gc;
  const heapUsed = opts.heapUsedBytes ?? (() => getHeapStatistics().used_heap_size);
  const slack = opts.slackBytes ?? HEAP_SLACK_BYTES;
  // Zero, so the first call also clears what start-up left behind.
  let liveBytes = 0;
  let trims = 0;
  return {
    afterWork() {
      if (!gc || heapUsed() - liveBytes < slack) return;
      gc();
      trims++;
      liveBytes = heapUsed();
    },
    get trims() {
      return trims;
    },
  };
}
