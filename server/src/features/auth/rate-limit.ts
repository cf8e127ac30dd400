import type { CacheStore } from '../../stores/cache/index.ts';

export interface RateLimitVerdict {
  allowed: boolean;
  remaining: number;
  resetInSec: number;
}

/**
 * Fixed-window limiter on the cache: `ratelimit:<subject>:<endpoint>`, atomic per hit.
 * `limit` is a number of hits, or 'read' for the (larger) budget of queries.
 */
export function createRateLimiter(cache: CacheStore, options: { max: number; readMax?: number; windowSec: number }) {
  return async function hit(subject: string, endpoint: string, limit: number | 'read' = options.max): Promise<RateLimitVerdict> {
    const max = limit === 'read' ? (options.readMax ?? options.max) : limit;
    const { count, resetInSec } = await cache.hitWindow(`ratelimit:${subject}:${endpoint}`, options.windowSec);
    return { allowed: count <= max, remaining: Math.max(0, max - count), resetInSec };
  };
}
export type RateLimiter = ReturnType<typeof createRateLimiter>;
