type Timer = ReturnType<typeof setTimeout>;

/** Node keeps a process alive for a pending timer; a deadline must not (browsers have no unref). */
function unrefd(timer: Timer): Timer {
  (timer as { unref?: () => void }).unref?.();
  return timer;
}

/** Thrown by withTimeout: the work did not settle in time (it may still be running). */
export class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

/**
 * `p`, or a TimeoutError after `ms`: one hung call (a dead NFS mount, a peer that never
 * answers) cannot stall its caller. The timer is cleared as soon as `p` settles.
 */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: Timer | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = unrefd(setTimeout(() => reject(new TimeoutError(`${what} timed out after ${ms} ms`)), ms));
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Waits for `p`, but no longer than `ms`, and does not say which came first: for shutdown,
 * which must not hang on a stuck peer. A rejection of `p` within the time still rejects.
 */
export async function waitAtMost(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: Timer | undefined;
  try {
    await Promise.race([p, new Promise<void>((resolve) => { timer = unrefd(setTimeout(resolve, ms)); })]);
  } finally {
    clearTimeout(timer);
  }
}
