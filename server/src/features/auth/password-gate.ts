import { availableParallelism } from 'node:os';
import { AppError } from '../../platform/errors.ts';

/**
 * A queue in front of password checks. Each scrypt costs 50-160 ms of a core (by machine) and runs
 * on libuv's four shared threads (with file and DNS work): without a bound, one client sending
 * hundreds of logins at once queues hundreds of hashes ahead of everyone else's login, and of disk reads.
 *
 * `concurrency` checks run at once; the others wait, taken in turn key by key (round robin over
 * addresses), so a key with many waiting checks delays another key's check by at most one turn
 * per busy key, not by its whole queue. `maxPending` checks wait or run in all, `maxPendingPerKey`
 * for one key; past either cap a check fails at once with TOO_MANY_REQUESTS.
 */
export interface PasswordGateOptions {
  concurrency: number;
  maxPending: number;
  maxPendingPerKey: number;
}

export interface PasswordGate {
  run<T>(key: string, check: () => Promise<T>): Promise<T>;
  /** Checks running or waiting. */
  readonly pending: number;
}

export function createPasswordGate(options: PasswordGateOptions): PasswordGate {
  /** Checks waiting or running per key. */
  const perKey = new Map<string, number>();
  /** Waiting checks per key; the map's order is the rotation (a served key goes to the back). */
  const waiting = new Map<string, (() => void)[]>();
  let running = 0;
  let pending = 0;

  const startNext = () => {
    while (running < options.concurrency) {
      const first = waiting.entries().next();
      if (first.done) return;
      const [key, queue] = first.value;
      waiting.delete(key);
      const start = queue.shift()!;
      if (queue.length > 0) waiting.set(key, queue);
      running++;
      start();
    }
  };

  return {
    async run(key, check) {
      const mine = perKey.get(key) ?? 0;
      if (pending >= options.maxPending || mine >= options.maxPendingPerKey) {
        throw new AppError('TOO_MANY_REQUESTS', 'The server is busy checking other logins; try again in a few seconds');
      }
      pending++;
      perKey.set(key, mine + 1);
      await new Promise<void>((resolve) => {
        const queue = waiting.get(key);
        if (queue) queue.push(resolve);
        else waiting.set(key, [resolve]);
        startNext();
      });
      try {
        return await check();
      } finally {
        running--;
        pending--;
        const left = (perKey.get(key) ?? 1) - 1;
        if (left > 0) perKey.set(key, left);
        else perKey.delete(key);
        startNext();
      }
    },
    get pending() {
      return pending;
    },
  };
}

/**
 * The process's gate: the cores and libuv's threads are per process, so every server in it (tests
 * run several) shares one bound. One core is left to the event loop, which answers everyone else.
 */
export const passwordGate: PasswordGate = createPasswordGate({
  concurrency: Math.max(1, Math.min(4, availableParallelism() - 1)),
  maxPending: 64,
  maxPendingPerKey: 16,
});
