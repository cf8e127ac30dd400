import type { OutputStream } from './types.ts';

export interface Chunk {
  seq: number;
  stream: OutputStream;
  data: string;
}

/** Characters per chunk; below the server's per-chunk limit whatever the encoding. */
export const MAX_CHUNK_CHARS = 16 * 1024;
export const MAX_CHUNKS_PER_BATCH = 32;

/**
 * Orders output into numbered chunks and sends them in batches, one send at a time: the first
 * batch after a quiet spell goes at once (an `echo` is seen without delay), later ones at most
 * every `intervalMs`, coalescing what arrived meanwhile. Seq numbers start at 0 and never skip.
 */
export function createChunkBatcher(opts: { intervalMs: number; send: (chunks: Chunk[]) => Promise<void>; onError?: (error: unknown) => void }) {
  const onError = opts.onError ?? (() => undefined);
  const pending: Chunk[] = [];
  let nextSeq = 0;
  let lastFlushAt = -Infinity;
  let timer: NodeJS.Timeout | null = null;
  let chain: Promise<void> = Promise.resolve();

  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    // Only a batch starts the interval: a report sent through the chain with nothing pending
    // (`started` just before the first output) must not hold that output back.
    if (pending.length > 0) lastFlushAt = performance.now();
    while (pending.length > 0) {
      const batch = pending.splice(0, MAX_CHUNKS_PER_BATCH);
      chain = chain.then(() => opts.send(batch)).catch(onError);
    }
    return chain;
  };
  const schedule = () => {
    if (timer) return;
    const waitMs = Math.max(0, lastFlushAt + opts.intervalMs - performance.now());
    if (waitMs === 0) void flush();
    else timer = setTimeout(() => void flush(), waitMs);
  };

  return {
    push(stream: OutputStream, text: string) {
      for (let offset = 0; offset < text.length; offset += MAX_CHUNK_CHARS) {
        const piece = text.slice(offset, offset + MAX_CHUNK_CHARS);
        const last = pending[pending.length - 1];
        if (last && last.stream === stream && last.data.length + piece.length <= MAX_CHUNK_CHARS) last.data += piece;
        else pending.push({ seq: nextSeq++, stream, data: piece });
      }
      schedule();
    },
    /** Sends what is pending now; resolves when everything pushed so far has been sent. */
    drain(): Promise<void> {
      return flush();
    },
    /** Runs `task` after everything pushed so far has been sent (keeps reports in order). */
    then(task: () => Promise<void>): Promise<void> {
      void flush();
      chain = chain.then(task).catch(onError);
      return chain;
    },
  };
}
