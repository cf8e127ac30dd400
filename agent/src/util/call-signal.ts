/** A per-call signal: aborted by its parent or by its deadline. Call `done()` when the call settles. */
export interface CallSignal {
  readonly signal: AbortSignal;
  done(): void;
}

/**
 * `AbortSignal.any([parent, AbortSignal.timeout(ms)])` without its leak: on Node 20 every
 * `any()` leaves an entry on the parent that goes only when the parent aborts, and the agent's
 * parent is its lifetime signal, so each heartbeat and push would keep ~60 bytes forever. The
 * timeout aborts with the same `TimeoutError` DOMException and, like AbortSignal.timeout, does
 * not keep the process alive.
 */
export function callSignal(parent: AbortSignal, timeoutMs: number): CallSignal {
  const controller = new AbortController();
  const onAbort = () => controller.abort(parent.reason);
  const timer = setTimeout(() => controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), timeoutMs).unref();
  if (parent.aborted) onAbort();
  else parent.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    done() {
      clearTimeout(timer);
      parent.removeEventListener('abort', onAbort);
    },
  };
}
