import { hashSecret } from '../../platform/secrets.ts';
import { addressKey } from '../../platform/http/client-address.ts';

/** What the server's rate limiter (`services.rateLimit`) answers; typed here, since importing the auth feature from services' modules would be a cycle. */
export interface RateLimitVerdict {
  allowed: boolean;
  resetInSec: number;
}
/** One hit of `subject` on `endpoint`, allowed while within `limit` per window (`services.rateLimit`). */
type HitLimit = (subject: string, endpoint: string, limit: number) => Promise<RateLimitVerdict>;

/** Enrollment attempts per source address per window with a token not known to work: guessing tokens is slow. */
export const ENROLL_ATTEMPTS_PER_ADDRESS = 30;
/**
 * Enrollment attempts per token per window once the token has worked here: a roll-out of 10,000
 * machines behind one NAT, with its retries, in one window; a leaked token no faster than that
 * (its uses are bounded by its `maxUses` anyway).
 */
export const ENROLL_ATTEMPTS_PER_TOKEN = 20_000;
/** Tokens remembered as working, the oldest forgotten first: a few fleets' tokens, not every token ever. */
const KNOWN_TOKENS_MAX = 10_000;
/** Attempts held at once waiting for another attempt with their token; more are refused at once. */
const WAITING_MAX = 10_000;
/** The longest an attempt waits for another with its token to end (the agent gives up after 30 s). */
const WAIT_MAX_MS = 20_000;

/** One admitted or refused attempt; the caller reports how it ended. */
export interface EnrollmentAttempt {
  verdict: RateLimitVerdict;
  /** The token enrolled a device: its next attempts count against the token. */
  enrolled(tokenId: string): void;
  /** The token was refused (unknown, revoked, expired, used up): its next attempts count against their address. */
  refused(): void;
  /** Anything else went wrong: nothing is learnt about the token. */
  failed(): void;
}

/**
 * Whose budget an enrollment attempt spends. A token this instance has seen enroll a device
 * counts against itself: a roll-out comes from thousands of machines, often behind one address,
 * and must not queue behind a per-address limit. Any other token (a guess, a revoked one, a good
 * one before its first enrollment ended) counts against the address, so guessing stays as slow as
 * before: only attempts within the address's budget reach the database, and a token becomes
 * known only by enrolling a device.
 *
 * Past the address's budget, an attempt whose token is being tried by an admitted attempt waits for
 * that one to end (a roll-out's first wave arrives before any of its enrollments has finished), then
 * goes on if the token enrolled and is refused otherwise; an attempt with a token nobody is trying is
 * refused at once. Either way it learns only what the attempt already admitted learns.
 */
export function createEnrollmentLimit(rateLimit: HitLimit) {
  /** Hash of a token that enrolled a device → its id (the limit's subject: no secret in cache keys). */
  const known = new Map<string, string>();
  /** Hash of a token → admitted attempts with it not yet ended. */
  const trying = new Map<string, number>();
  /** Hash of a token → attempts past the budget waiting for those to end. */
  const waiting = new Map<string, Set<(tokenId: string | null) => void>>();
  let waitingCount = 0;

  const perToken = (tokenId: string) => rateLimit(`token:${tokenId}`, 'agent.enroll', ENROLL_ATTEMPTS_PER_TOKEN);

  function release(hash: string, tokenId: string | null) {
    for (const done of [...(waiting.get(hash) ?? [])]) done(tokenId);
  }

  function learn(hash: string, tokenId: string) {
    if (!known.has(hash)) {
      if (known.size >= KNOWN_TOKENS_MAX) known.delete(known.keys().next().value!);
      known.set(hash, tokenId);
    }
    release(hash, tokenId);
  }

  /** The token's id once an admitted attempt with it enrolled; null when they all ended otherwise. */
  function outcomeOfTrying(hash: string): Promise<string | null> {
    if (!trying.has(hash) || waitingCount >= WAITING_MAX) return Promise.resolve(null);
    return new Promise((resolve) => {
      const waiters = waiting.get(hash) ?? new Set();
      waiting.set(hash, waiters);
      waitingCount++;
      const done = (tokenId: string | null) => {
        clearTimeout(timer);
        waiters.delete(done);
        if (waiters.size === 0 && waiting.get(hash) === waiters) waiting.delete(hash);
        waitingCount--;
        resolve(tokenId);
      };
      const timer = setTimeout(() => done(null), WAIT_MAX_MS);
      waiters.add(done);
    });
  }

  /** An attempt through the token's own budget: nothing to report back but what a refusal teaches. */
  const untracked = (hash: string, verdict: RateLimitVerdict): EnrollmentAttempt => ({
    verdict, enrolled: () => undefined, failed: () => undefined, refused: () => void known.delete(hash),
  });

  /** An attempt admitted on the address's budget: its end settles the attempts waiting for it. */
  function tracked(hash: string, verdict: RateLimitVerdict): EnrollmentAttempt {
    trying.set(hash, (trying.get(hash) ?? 0) + 1);
    let ended = false;
    const end = () => {
      if (ended) return false;
      ended = true;
      const left = trying.get(hash)! - 1;
      if (left > 0) trying.set(hash, left);
      else trying.delete(hash);
      return left === 0;
    };
    return {
      verdict,
      enrolled: (tokenId) => {
        end();
        learn(hash, tokenId);
      },
      refused: () => {
        known.delete(hash);
        if (end()) release(hash, null);
      },
      failed: () => {
        if (end()) release(hash, null);
      },
    };
  }

  return {
    async admit(token: string, ip: string | null): Promise<EnrollmentAttempt> {
      const hash = hashSecret(token);
      const tokenId = known.get(hash);
      if (tokenId) return untracked(hash, await perToken(tokenId));
      const verdict = await rateLimit(`ip:${addressKey(ip)}`, 'agent.enroll', ENROLL_ATTEMPTS_PER_ADDRESS);
      if (verdict.allowed) return tracked(hash, verdict);
      const learned = await outcomeOfTrying(hash);
      return untracked(hash, learned ? await perToken(learned) : verdict);
    },
  };
}

export type EnrollmentLimit = ReturnType<typeof createEnrollmentLimit>;
