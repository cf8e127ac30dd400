import { describe, expect, it } from 'vitest';
import { createMemoryCache } from '../../stores/cache/memory/memory-cache.ts';
import { createRateLimiter } from '../auth/rate-limit.ts';
import { createEnrollmentLimit, ENROLL_ATTEMPTS_PER_ADDRESS, type EnrollmentAttempt, type EnrollmentLimit } from './enrollment-limit.ts';

const TOKEN = 'nit_fleet';
const NAT = '203.0.113.7';
const guess = () => `nit_guess_${Math.random()}`;

const newLimit = () => createEnrollmentLimit(createRateLimiter(createMemoryCache(), { max: 100, windowSec: 900 }));

/** `n` attempts in turn, each ending as `end` says; how many were allowed. */
async function allowedOf(limit: EnrollmentLimit, n: number, token: () => string, ip: string, end: (a: EnrollmentAttempt) => void = (a) => a.refused()) {
  let allowed = 0;
  for (let i = 0; i < n; i++) {
    const attempt = await limit.admit(token(), ip);
    if (!attempt.verdict.allowed) continue;
    allowed++;
    end(attempt);
  }
  return allowed;
}

describe('enrollment rate limit', () => {
  it('holds a token not known to work to its address budget, valid or not', async () => {
    const limit = newLimit();
    expect(await allowedOf(limit, ENROLL_ATTEMPTS_PER_ADDRESS + 5, guess, NAT)).toBe(ENROLL_ATTEMPTS_PER_ADDRESS);
    // A good token on its first use, past the budget, with no attempt of it under way: refused at once, like a guess.
    expect((await limit.admit(TOKEN, NAT)).verdict.allowed).toBe(false);
    // Another address has its own budget.
    expect((await limit.admit(TOKEN, '203.0.113.8')).verdict.allowed).toBe(true);
  });

  it('lets a token that enrolled a device go on from one address past the address budget (a roll-out behind a NAT)', async () => {
    const limit = newLimit();
    (await limit.admit(TOKEN, NAT)).enrolled('token-id');
    const rollOut = 3 * ENROLL_ATTEMPTS_PER_ADDRESS;
    expect(await allowedOf(limit, rollOut, () => TOKEN, NAT, (a) => a.enrolled('token-id'))).toBe(rollOut);
    // Only its first attempt, before it was known, spent the address's budget.
    expect(await allowedOf(limit, ENROLL_ATTEMPTS_PER_ADDRESS, guess, NAT)).toBe(ENROLL_ATTEMPTS_PER_ADDRESS - 1);
  });

  it('forgets a token once it is refused: its attempts count against the address again', async () => {
    const limit = newLimit();
    (await limit.admit(TOKEN, NAT)).enrolled('token-id');
    (await limit.admit(TOKEN, NAT)).refused();
    expect(await allowedOf(limit, ENROLL_ATTEMPTS_PER_ADDRESS, () => TOKEN, NAT)).toBe(ENROLL_ATTEMPTS_PER_ADDRESS - 1);
  });

  it('counts the addresses of one IPv6 /64 as one', async () => {
    const limit = newLimit();
    let n = 0;
    const hosts = () => `2001:db8:1:2::${(++n).toString(16)}`;
    let allowed = 0;
    for (let i = 0; i <= ENROLL_ATTEMPTS_PER_ADDRESS; i++) if ((await limit.admit(guess(), hosts())).verdict.allowed) allowed++;
    expect(allowed).toBe(ENROLL_ATTEMPTS_PER_ADDRESS);
  });

  it('past the budget, an attempt waits for an admitted one with its token: goes on if it enrolled, is refused if not', async () => {
    const limit = newLimit();
    await allowedOf(limit, ENROLL_ATTEMPTS_PER_ADDRESS - 2, guess, NAT);
    // A roll-out's first wave: two admitted on the address's budget, the rest wait for them.
    const first = await limit.admit(TOKEN, NAT);
    const wrong = await limit.admit('nit_revoked', NAT);
    expect([first.verdict.allowed, wrong.verdict.allowed]).toEqual([true, true]);
    const wave = Array.from({ length: 5 }, () => limit.admit(TOKEN, NAT));
    const afterWrong = limit.admit('nit_revoked', NAT);
    setTimeout(() => {
      first.enrolled('token-id');
      wrong.refused();
    }, 20);
    for (const attempt of await Promise.all(wave)) expect(attempt.verdict.allowed).toBe(true);
    expect((await afterWrong).verdict.allowed).toBe(false);
  });
});
