import { MAX_CHUNKS_PER_BATCH, type Chunk } from './chunk-batcher.ts';

/**
 * How long a command's `started` and output are held back: most commands (an echo, a fleet-wide
 * check) finish within it and cost one call, their result carrying the output. A command still
 * running then streams as before, so a long one's output is live within this delay.
 */
export const QUICK_COMMAND_MS = 200;

export interface QuickReports {
  /** Passed to `runCommand` in place of the runner's own `started` and `output`. */
  started(): Promise<void>;
  output(chunks: Chunk[]): Promise<void>;
  /**
   * Called once the command ended: the output still held (for the result to carry), or null when
   * the hold was over, once everything held went out through `started` and `output`.
   */
  finish(): Promise<Chunk[] | null>;
}

/**
 * Holds a command's `started` and output reports for `holdMs`, or until they would not fit one
 * output batch, then sends what it held in order and lets everything after through. Ended
 * within the hold, the command has sent nothing: `finish` hands its output to the result.
 */
export function holdQuickReports(
  send: { started(): Promise<void>; output(chunks: Chunk[]): Promise<void>; onError(error: unknown): void },
  holdMs = QUICK_COMMAND_MS,
): QuickReports {
  let held: { started: boolean; chunks: Chunk[] } | null = { started: false, chunks: [] };
  // Resolves once what was held went out: later reports queue behind it, so seqs stay in order.
  let released: Promise<void> = Promise.resolve();
  const release = (): Promise<void> => {
    if (!held) return released;
    const { started, chunks } = held;
    held = null;
    clearTimeout(timer);
    released = (async () => {
      if (started) await send.started();
      for (let i = 0; i < chunks.length; i += MAX_CHUNKS_PER_BATCH) await send.output(chunks.slice(i, i + MAX_CHUNKS_PER_BATCH));
    })();
    return released;
  };
  // What the release sends was refused or failed: told once, as the batcher tells of its own sends.
  const settled = () => released.catch(() => undefined);
  const timer = setTimeout(() => void release().catch(send.onError), holdMs);
  timer.unref();

  return {
    async started() {
      if (held) return void (held.started = true);
      await settled();
      await send.started();
    },
    async output(chunks) {
      // More than one batch is not a quick command's output: it streams from here on.
      if (held && held.chunks.length + chunks.length > MAX_CHUNKS_PER_BATCH) await release();
      if (held) return void held.chunks.push(...chunks);
      await settled();
      await send.output(chunks);
    },
    async finish() {
      if (!held) return settled().then(() => null);
      clearTimeout(timer);
      const { chunks } = held;
      held = null;
      return chunks;
    },
  };
}
