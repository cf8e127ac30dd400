import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { cacheEngines } from '../../testing/databases.ts';
import { createMemoryCache } from './memory/memory-cache.ts';
import { createRedisCache } from './redis/redis-cache.ts';
import type { CacheStore } from './types.ts';

describe.each(cacheEngines())('cache port on %s', (engine) => {
  const cache: CacheStore = engine === 'redis' ? createRedisCache(process.env.REDIS_URL!) : createMemoryCache();
  const prefix = `test:${randomBytes(4).toString('hex')}:`;
  afterAll(() => cache.close());

  it('sets, gets, expires and deletes', async () => {
    await cache.set(`${prefix}a`, 'one');
    await cache.set(`${prefix}b`, 'two', 1);
    expect(await cache.mget([`${prefix}a`, `${prefix}b`, `${prefix}missing`])).toEqual(['one', 'two', null]);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(await cache.get(`${prefix}b`)).toBeNull();
    await cache.del([`${prefix}a`]);
    expect(await cache.get(`${prefix}a`)).toBeNull();
  });

  it('counts rate-limit hits atomically within a window that expires', async () => {
    const key = `${prefix}rl`;
    const hits = await Promise.all(Array.from({ length: 20 }, () => cache.hitWindow(key, 60)));
    expect(hits.map((hit) => hit.count).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(hits.every((hit) => hit.resetInSec > 0 && hit.resetInSec <= 60)).toBe(true);
    const short = `${prefix}short`;
    await cache.hitWindow(short, 1);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await cache.hitWindow(short, 1)).count).toBe(1);
  });

  it('keeps sets and sorted sets', async () => {
    await cache.sadd(`${prefix}s`, 'x', 60);
    await cache.sadd(`${prefix}s`, 'y', 60);
    await cache.srem(`${prefix}s`, 'x');
    expect(await cache.smembers(`${prefix}s`)).toEqual(['y']);
    await cache.zadd(`${prefix}z`, [[5, 'five'], [50, 'fifty'], [1, 'one']]);
    expect(await cache.zrevrange(`${prefix}z`, 0, 1)).toEqual([{ member: 'fifty', score: 50 }, { member: 'five', score: 5 }]);
    await cache.del([`${prefix}s`, `${prefix}z`]);
  });

  it('delivers published messages to subscribers until they unsubscribe', async () => {
    const channel = `${prefix}chan`;
    const received: string[] = [];
    const unsubscribe = await cache.subscribe(channel, (message) => received.push(message));
    await cache.publish(channel, 'hello');
    await expect.poll(() => received).toEqual(['hello']);
    await unsubscribe();
    await cache.publish(channel, 'after');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(received).toEqual(['hello']);
  });
});
