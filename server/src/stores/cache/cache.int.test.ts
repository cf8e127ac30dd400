import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { cacheEngines } from '../../../test-support/databases.ts';
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

  it('says how much memory and how many keys the server holds (Redis, Dragonfly), from its first moment', async () => {
    if (engine === 'memory') {
      expect(cache.size).toBeUndefined();
      return;
    }
    // A new client, asked at once: the size sample at a server's start runs before it is connected.
    const fresh = createRedisCache(process.env.REDIS_URL!);
    try {
      expect((await fresh.size!()).usedBytes).toBeGreaterThan(0);
      await fresh.set(`${prefix}sized`, 'x'.repeat(1_000), 60);
      const size = await fresh.size!();
      expect(size.usedBytes).toBeGreaterThan(1_000);
      expect(size.keys).toBeGreaterThanOrEqual(1);
      expect(size.datasetBytes === null || size.datasetBytes > 0).toBe(true);
      await fresh.del([`${prefix}sized`]);
    } finally {
      await fresh.close();
    }
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

  it('sets a value only over an older one, even when writers race', async () => {
    const key = `${prefix}latest`;
    const value = (seq: number) => JSON.stringify({ seq, note: `sample ${seq}` });
    // The newest and older ones in every order at once: the newest must be what stays.
    await Promise.all([5, 9, 7, 3, 8].map((seq) => cache.msetIfNewer([[key, value(seq), seq]], 60)));
    expect(await cache.get(key)).toBe(value(9));
    await cache.msetIfNewer([[key, value(9), 9]], 60);
    await cache.msetIfNewer([[key, value(10), 10], [`${prefix}other`, value(1), 1]], 60);
    expect(await cache.mget([key, `${prefix}other`])).toEqual([value(10), value(1)]);
    // What is not ours to judge (no seq, not JSON) is overwritten.
    await cache.set(key, 'not json');
    await cache.msetIfNewer([[key, value(2), 2]]);
    expect(await cache.get(key)).toBe(value(2));
    await cache.del([key, `${prefix}other`]);
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
