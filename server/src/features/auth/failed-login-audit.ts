import type { Logger } from '../../platform/obs/logger.ts';
import type { Metrics } from '../../platform/obs/metrics.ts';
import type { RelationalStore } from '../../stores/relational/index.ts';
import type { CacheStore } from '../../stores/cache/index.ts';
import type { Audit } from '../audit/index.ts';
import { findLoginAccount, type LoginAccount } from './users.ts';

/**
 * Failed logins in the audit log, without letting a flood of them fill it. Per address, the first
 * PER_ADDRESS_IN_FULL failures of each minute are written one by one; after that only the 2^k-th
 * (32nd, 64th, 128th, …), each carrying the minute's count so far. Across all addresses at most
 * ALL_IN_FULL a minute are written, then again only at powers of two of the overall count.
 * N failures in a minute thus cost O(PER_ADDRESS_IN_FULL + log2 N) entries per address and at
 * most ALL_IN_FULL + log2 N in all, and the counts still tell how big the burst was.
 *
 * An entry goes to the organization of the account the email belongs to (its admins see attempts
 * on their people); attempts at emails no account has go to the nil organization, which no tenant
 * can read: they are the operator's business.
 */
export type FailedLoginReason = 'wrong_password' | 'unknown_account' | 'throttled' | 'busy' | 'wrong_second_factor';

export const FAILED_LOGIN_ACTION = 'auth.login_failed';
export const NO_ORGANIZATION = '00000000-0000-0000-0000-000000000000';
export const PER_ADDRESS_IN_FULL = 20;
export const ALL_IN_FULL = 1_000;
export const SAMPLE_WINDOW_SEC = 60;
/** Emails are at most 255 characters by the input schema; the bound holds whatever calls this. */
const EMAIL_CHARS = 255;

const isPowerOfTwo = (n: number) => n > 0 && (n & (n - 1)) === 0;
const sampled = (count: number, inFull: number) => count <= inFull || isPowerOfTwo(count);

export interface FailedLogin {
  ip: string | null;
  /** The per-address key (platform/http/client-address.ts). */
  address: string;
  email: string;
  reason: FailedLoginReason;
  /** Already known when the password was checked; looked up otherwise (only for entries written). */
  account?: LoginAccount | null;
  /** Set when a signed-in person got their current password wrong while changing it. */
  purpose?: 'login' | 'password_change';
}

export interface FailedLoginDeps {
  db: RelationalStore;
  cache: CacheStore;
  log: Logger;
  metrics: Metrics;
  audit: Audit;
}

/** Counts one failure from `address`; answers the address's count this minute when it is to be written, else null. */
export async function sampleFailedLogin(cache: CacheStore, address: string): Promise<number | null> {
  const [mine, all] = await Promise.all([
    cache.hitWindow(`audit-sample:login-failed:${address}`, SAMPLE_WINDOW_SEC),
    cache.hitWindow('audit-sample:login-failed', SAMPLE_WINDOW_SEC),
  ]);
  return sampled(mine.count, PER_ADDRESS_IN_FULL) && sampled(all.count, ALL_IN_FULL) ? mine.count : null;
}

/** Writes the audit entry for one failed login, or only counts it (see above). Never throws. */
export async function auditFailedLogin(deps: FailedLoginDeps, attempt: FailedLogin): Promise<void> {
  try {
    const failuresThisMinuteFromAddress = await sampleFailedLogin(deps.cache, attempt.address);
    if (failuresThisMinuteFromAddress === null) return;
    const account = attempt.account !== undefined ? attempt.account : await findLoginAccount(deps.db, attempt.email);
    await deps.audit({ ip: attempt.ip }, {
      action: FAILED_LOGIN_ACTION,
      organizationId: account?.organizationId ?? NO_ORGANIZATION,
      userId: account?.id,
      resourceId: account?.id ?? null,
      details: {
        email: attempt.email.slice(0, EMAIL_CHARS), reason: attempt.reason, failuresThisMinuteFromAddress,
        ...(attempt.purpose === 'password_change' ? { during: 'password_change' } : {}),
      },
    });
  } catch (error) {
    // The login's answer does not depend on its audit; a store that is down is counted and logged.
    deps.metrics.auditWriteFailures.inc();
    deps.log.error({ err: error, action: FAILED_LOGIN_ACTION }, 'could not audit a failed login');
  }
}
