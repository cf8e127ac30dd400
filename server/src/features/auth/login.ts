import { setTimeout as sleep } from 'node:timers/promises';
import { AppError } from '../../platform/errors.ts';
import { verifyLogin, WRONG_CREDENTIALS, type User } from './users.ts';
import { addressKey } from '../../platform/http/client-address.ts';
import { auditFailedLogin, type FailedLoginDeps } from './failed-login-audit.ts';
import { createLoginThrottle } from './login-throttle.ts';
import { passwordGate, type PasswordGate } from './password-gate.ts';
import { WRONG_SECOND_FACTOR } from './two-factor.ts';

export interface LoginAttempt {
  ip: string | null;
  email: string;
  password: string;
  /**
   * Why the password is checked: a login, or someone with a session proving they know it (to
   * change it). Both are guesses at the same password, so both count in the same throttle.
   */
  purpose?: 'login' | 'password_change';
}

/**
 * Runs password work (a check or a new hash, 50-160 ms of a core each) in the process's password
 * queue, in the caller's address's turn: people adding or resetting accounts cannot starve logins.
 */
export function withPasswordGate<T>(ip: string | null, work: () => Promise<T>, gate: PasswordGate = passwordGate): Promise<T> {
  return gate.run(addressKey(ip), work);
}

/**
 * One login attempt, start to end: the throttle (features/auth/login-throttle.ts), a place in the password
 * queue (features/auth/password-gate.ts), the check, and an audit entry for a failure. Every failure for an
 * unknown email takes the same path, costs the same work and gets the same answer as one for a
 * real account; only the audit entry tells them apart.
 */
export async function checkLogin(
  deps: FailedLoginDeps,
  attempt: LoginAttempt,
  gate: PasswordGate = passwordGate,
  /** The second step for an account with a second factor: throws when its code is missing or wrong. */
  secondFactor?: (user: User) => Promise<void>,
): Promise<User> {
  const address = addressKey(attempt.ip);
  const throttle = createLoginThrottle(deps.cache);
  const failure = { ip: attempt.ip, address, email: attempt.email, ...(attempt.purpose ? { purpose: attempt.purpose } : {}) };

  const verdict = await throttle.check(address, attempt.email);
  if (!verdict.allowed) {
    await auditFailedLogin(deps, { ...failure, reason: 'throttled' });
    throw new AppError('TOO_MANY_REQUESTS', `Too many failed logins; try again in ${verdict.retryInSec} s`);
  }
  // Held outside the queue: a slowed account must not take places from everyone else's logins.
  if (verdict.delayMs > 0) await sleep(verdict.delayMs);

  const check = await gate.run(address, () => verifyLogin(deps.db, attempt.email, attempt.password)).catch(async (error: unknown) => {
    if (error instanceof AppError && error.code === 'TOO_MANY_REQUESTS') await auditFailedLogin(deps, { ...failure, reason: 'busy' });
    throw error;
  });
  if (!check.ok) {
    // Audit first, then start the wait: an entry in a known account's organization takes a
    // different path than one in the operator's log, and a wait that began before it would be
    // shorter, as seen by the caller, for one kind of email than for the other.
    await auditFailedLogin(deps, { ...failure, reason: check.reason, account: check.account });
    await throttle.failed(address, attempt.email);
    throw new AppError('UNAUTHORIZED', WRONG_CREDENTIALS);
  }
  if (secondFactor) {
    try {
      await secondFactor(check.user);
    } catch (error) {
      // A wrong code counts like a wrong password (the password was right, the code is guessed);
      // a missing one is the first step of a two-step login and counts for nothing.
      if (error instanceof AppError && error.message === WRONG_SECOND_FACTOR) {
        await throttle.failed(address, attempt.email);
        await auditFailedLogin(deps, { ...failure, reason: 'wrong_second_factor' });
      }
      throw error;
    }
  }
  await throttle.succeeded(address, attempt.email);
  return check.user;
}
