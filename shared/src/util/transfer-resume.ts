/**
 * Resuming a chunked transfer, shared by the CLI (`ninjait cp`) and the console so that both
 * survive the same faults the same way.
 */

export interface ResumeOptions {
  /** Tries in all, the first included (default 5). */
  attempts?: number;
  /** The n-th retry waits n times this (default 1 s). */
  retryDelayMs?: number;
  /** Cancels the waits between tries (the transfer's own calls take it separately). */
  signal?: AbortSignal;
}

const codeOf = (error: unknown): string | undefined => (error as { data?: { code?: string } } | null)?.data?.code;

/**
 * The request never reached its end (a dropped connection, a server restarting, a device briefly
 * away), as opposed to a refusal, which another try would only repeat.
 */
export function isDroppedConnection(error: unknown): boolean {
  const code = codeOf(error);
  return code === undefined || code === 'SERVICE_UNAVAILABLE' || code === 'INTERNAL_SERVER_ERROR';
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    signal?.throwIfAborted();
    const stop = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', stop);
      resolve();
    }, ms);
    signal?.addEventListener('abort', stop, { once: true });
  });
}

/** Retries `step` after a dropped connection; a refusal is thrown at once. */
export async function withRetries<T>(opts: ResumeOptions, step: () => Promise<T>): Promise<T> {
  const attempts = opts.attempts ?? 5;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await step();
    } catch (error) {
      if (attempt >= attempts || !isDroppedConnection(error)) throw error;
      await pause((opts.retryDelayMs ?? 1_000) * attempt, opts.signal);
    }
  }
}

/**
 * Runs `pump` from where the receiving end has the data (`where`), and again from there after a
 * dropped connection. A CONFLICT from the pump means the receiver's data ends elsewhere than the
 * sender assumed (a chunk held up past the receiver's wait, an ack lost): asking `where` again
 * resynchronises, so it is resumed too. A CONFLICT from `where` itself is a refusal (the target
 * exists, say) and is thrown at once, as is any other refusal.
 */
export async function withResume(opts: ResumeOptions, where: () => Promise<number>, pump: (from: number) => Promise<void>): Promise<void> {
  const attempts = opts.attempts ?? 5;
  for (let attempt = 1; ; attempt += 1) {
    let from: number;
    try {
      from = await where();
    } catch (error) {
      if (attempt >= attempts || !isDroppedConnection(error)) throw error;
      await pause((opts.retryDelayMs ?? 1_000) * attempt, opts.signal);
      continue;
    }
    try {
      return await pump(from);
    } catch (error) {
      opts.signal?.throwIfAborted();
      if (attempt >= attempts || !(isDroppedConnection(error) || codeOf(error) === 'CONFLICT')) throw error;
      await pause((opts.retryDelayMs ?? 1_000) * attempt, opts.signal);
    }
  }
}
