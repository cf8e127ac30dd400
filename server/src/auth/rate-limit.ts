import type { CacheStore } from '../stores/cache/index.ts';

export interface RateLimitVerdict {
  allowed: boolean;
  remaining: number;
  resetInSec: number;
}

/** Fixed-window limiter on the cache: `ratelimit:<subject>:<endpoint>`, atomic per hit. */
export function createRateLimiter(cache: CacheStore, options: { max: number; windowSec: number }) {
  return async function hit(subject: string, endpoint: string, max = options.max): Promise<RateLimitVerdict> {
    const { count, resetInSec } = await cache.hitWindow(`ratelimit:${subject}:${endpoint}`, options.windowSec);
    return { allowed: count <= max, remaining: Math.max(0, max - count), resetInSec };
  };
}
export type RateLimiter = ReturnType<typeof createRateLimiter>;
