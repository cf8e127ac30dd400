import { Redis } from 'ioredis';

/**
 * Deletes every key matching each pattern (SCAN, so a big database is not blocked). Tests on a
 * shared Redis give their servers a key prefix and call this at the end, pass or fail.
 */
export async function dropRedisKeys(redisUrl: string, patterns: readonly string[]): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2 });
  try {
    await redis.connect();
    for (const pattern of patterns) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        if (keys.length > 0) await redis.del(...keys);
        cursor = next;
      } while (cursor !== '0');
    }
  } finally {
    redis.disconnect();
  }
}
