import { backoffMs } from '@ninjait/shared';
import type { CacheStore } from '../../stores/cache/index.ts';
import { hashSecret } from '../../platform/secrets.ts';

/**
 * Slows password guessing without locking anyone out. Failed logins are counted in the cache (so
 * every instance sees them) for a window that starts with the first failure and then expires, per:
 *
 * - address and account together: past PAIR_FREE failures that address waits, before its next try
 *   at that account, 1 s, then 2, 4, … up to MAX_WAIT_MS after its latest failure;
 * - address alone (guessing across many accounts): the same past ADDRESS_FREE failures;
 * - account alone (guessing from many addresses): past ACCOUNT_FREE failures every try at the
 *   account is held back before the check, for the same growing time but at most
 *   ACCOUNT_MAX_DELAY_MS. It never refuses: the owner gets in from anywhere after that delay.
 *
 * A success clears the pair and the account; the address's count stays, or an attacker holding any
 * account could reset it between guesses. Accounts are keyed by the email as typed (hashed), so an
 * unknown email is throttled exactly like a real one and the answers say nothing about which exists.
 */
export const LOGIN_WINDOW_SEC = 15 * 60;
export const PAIR_FREE = 5;
export const ADDRESS_FREE = 20;
export const ACCOUNT_FREE = 10;
const FIRST_WAIT_MS = 1_000;
export const MAX_WAIT_MS = 60_000;
export const ACCOUNT_MAX_DELAY_MS = 5_000;

export type ThrottleVerdict =
  | { allowed: true; /** Hold the attempt this long before checking it. */ delayMs: number }
  | { allowed: false; retryInSec: number };

export interface LoginThrottle {
  check(address: string, email: string): Promise<ThrottleVerdict>;
  failed(address: string, email: string): Promise<void>;
  succeeded(address: string, email: string): Promise<void>;
}

/** The wait after `failures` failures, of which `free` cost nothing. */
export function waitAfter(failures: number, free: number, maxMs = MAX_WAIT_MS): number {
  const over = failures - free;
  return over <= 0 ? 0 : backoffMs(over - 1, { baseMs: FIRST_WAIT_MS, maxMs, jitter: 'none' });
}

export function createLoginThrottle(cache: CacheStore, now: () => number = Date.now): LoginThrottle {
  // Emails are hashed into the keys: a cache dump should not be a list of who tried to log in.
  const scopes = (address: string, email: string) => {
    const account = hashSecret(email.trim().toLowerCase()).slice(0, 32);
    return { pair: `login-fail:pair:${address}:${account}`, address: `login-fail:addr:${address}`, account: `login-fail:acct:${account}` };
  };
  const last = (key: string) => `${key}:last`;

  return {
    async check(address, email) {
      const keys = scopes(address, email);
      const [pair, pairAt, addr, addrAt, account] = (await cache.mget([
        keys.pair, last(keys.pair), keys.address, last(keys.address), keys.account,
      ])).map(Number);
      const readyAt = Math.max(pairAt! + waitAfter(pair!, PAIR_FREE), addrAt! + waitAfter(addr!, ADDRESS_FREE));
      const waitMs = readyAt - now();
      if (waitMs > 0) return { allowed: false, retryInSec: Math.ceil(waitMs / 1000) };
      return { allowed: true, delayMs: waitAfter(account!, ACCOUNT_FREE, ACCOUNT_MAX_DELAY_MS) };
    },
    async failed(address, email) {
      const keys = scopes(address, email);
      await Promise.all([
        ...Object.values(keys).map((key) => cache.hitWindow(key, LOGIN_WINDOW_SEC)),
        cache.mset(Object.values(keys).map((key) => [last(key), String(now())] as const), LOGIN_WINDOW_SEC),
      ]);
    },
    async succeeded(address, email) {
      const keys = scopes(address, email);
      await cache.del([keys.pair, last(keys.pair), keys.account, last(keys.account)]);
    },
  };
}
