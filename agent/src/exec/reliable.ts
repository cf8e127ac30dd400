import { backoffMs } from '@ninjait/shared';

/**
 * Retries a report until it is accepted or `signal` aborts: the socket reconnects on its own,
 * and reports are idempotent on the server (chunks by seq, results only once).
 */
export async function untilDelivered<T>(send: () => Promise<T>, signal: AbortSignal, onRetry: (error: unknown, attempt: number) => void): Promise<T | null> {
  for (let attempt = 1; !signal.aborted; attempt++) {
    try {
      return await send();
    } catch (error) {
      if (isPermanent(error)) throw error;
      onRetry(error, attempt);
      const delayMs = backoffMs(attempt - 1, { baseMs: 250, maxMs: 5_000 });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delayMs);
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        }, { once: true });
      });
    }
  }
  return null;
}

/** A refusal of the input itself: sending the same report again cannot help. */
function isPermanent(error: unknown): boolean {
  const code = (error as { data?: { code?: string } } | null)?.data?.code;
  return code === 'BAD_REQUEST' || code === 'PAYLOAD_TOO_LARGE' || code === 'NOT_FOUND';
}
