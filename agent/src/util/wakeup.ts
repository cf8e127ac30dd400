import { systemClock, type Clock } from './clock.ts';

/**
 * A latched wake-up: `wake()` releases the current `wait()`, or the next one if nobody is
 * waiting, so a notification that arrives between two checks is never lost.
 */
export class Wakeup {
  private pending = false;
  private release: (() => void) | null = null;

  constructor(private readonly clock: Clock = systemClock) {}

  wake(): void {
    if (this.release) this.release();
    else this.pending = true;
  }

  /** Resolves on `wake()`, on abort, or after `timeoutMs` if given. Never rejects. */
  wait(signal: AbortSignal, timeoutMs?: number): Promise<void> {
    if (this.pending || signal.aborted) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        if (timer !== undefined) this.clock.clearTimeout(timer);
        signal.removeEventListener('abort', done);
        if (this.release === done) this.release = null;
        resolve();
      };
      const timer = timeoutMs === undefined ? undefined : this.clock.setTimeout(done, timeoutMs);
      this.release = done;
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
