import type { RevocationReason, Sessions, WatchScope } from './sessions.ts';
import { AppError } from '../../platform/errors.ts';

/** How often an open subscription re-reads its session, in case a revocation message was lost. */
export const SESSION_RECHECK_MS = 15_000;

export interface RevocableOptions {
  /** Runs once when the subscription ends because of a revocation (e.g. close the shell it watched). */
  onRevoked?: (reason: RevocationReason) => Promise<void>;
  recheckMs?: number;
}

/** What a person's subscription depends on: the caller's session and user, and the devices it shows. */
export const scopeOf = (ctx: { sessionToken: string; user: { userId: string } }, deviceIds?: readonly string[]): WatchScope =>
  ({ sessionToken: ctx.sessionToken, userId: ctx.user.userId, ...(deviceIds ? { deviceIds } : {}) });

const errorFor = (reason: RevocationReason) => reason === 'device'
  ? new AppError('NOT_FOUND', 'The device was decommissioned or replaced; this stream has ended')
  : new AppError('UNAUTHORIZED', 'Your session ended (logout, password or role change); log in again');

/**
 * A person's subscription that ends, on any instance, when its session or user is revoked (logout,
 * password or role change, removal) or a device it shows is decommissioned: at once through the
 * sessions' revocation channel, and within `recheckMs` through a periodic session check should a
 * message be lost. It then fails with UNAUTHORIZED (or NOT_FOUND for a device), so the client
 * knows why. `run` gets a signal that aborts when the subscription ends for any reason.
 */
export async function* revocable<T>(
  sessions: Sessions,
  scope: WatchScope,
  signal: AbortSignal | undefined,
  run: (signal: AbortSignal) => AsyncIterable<T>,
  options: RevocableOptions = {},
): AsyncGenerator<T> {
  const controller = new AbortController();
  const forward = () => controller.abort();
  if (signal?.aborted) controller.abort();
  signal?.addEventListener('abort', forward, { once: true });
  let revoked: RevocationReason | null = null;
  let wake: () => void = () => undefined;
  const ended = new Promise<void>((resolve) => (wake = resolve));
  const revoke = (reason: RevocationReason) => {
    revoked ??= reason;
    wake();
    controller.abort();
  };
  const stopWatching = await sessions.watch(scope, revoke);
  const timer = setInterval(() => {
    sessions.get(scope.sessionToken).then((user) => (user ? undefined : revoke('session')), () => undefined);
  }, options.recheckMs ?? SESSION_RECHECK_MS);
  timer.unref();
  const iterator = run(controller.signal)[Symbol.asyncIterator]();
  let done = false;
  try {
    // Raced with the revocation, so a stream waiting on something slow still ends at once.
    while (!revoked) {
      const pending = iterator.next();
      // If the revocation wins the race, a later failure of this step must not go unhandled.
      pending.catch(() => undefined);
      const next = await Promise.race([pending, ended.then(() => null)]);
      if (!next || next.done) {
        done = next?.done ?? false;
        break;
      }
      yield next.value;
    }
    if (revoked) {
      await options.onRevoked?.(revoked).catch(() => undefined);
      throw errorFor(revoked);
    }
  } finally {
    clearInterval(timer);
    signal?.removeEventListener('abort', forward);
    controller.abort();
    // Not awaited when it did not finish: it may still be in a `next` that the abort is ending.
    if (!done) void iterator.return?.(undefined)?.catch(() => undefined);
    await stopWatching().catch(() => undefined);
  }
}
