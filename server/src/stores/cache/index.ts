import type { CacheStore } from './types.ts';
import { createMemoryCache } from './memory/memory-cache.ts';
import { createRedisCache } from './redis/redis-cache.ts';

export type { CacheSize, CacheStore, Unsubscribe } from './types.ts';
export { instrumentCacheStore, keyFamily } from './instrumented.ts';
export { createMemoryCache, createRedisCache };
export * from './keys.ts';

/** Redis/Dragonfly when a URL is given, the in-process cache otherwise. */
export function openCacheStore(options: { redisUrl?: string | undefined; keyPrefix?: string | undefined }): CacheStore {
  return options.redisUrl ? createRedisCache(options.redisUrl, { keyPrefix: options.keyPrefix }) : createMemoryCache();
}
