import { Redis } from 'ioredis';
import { probeHealth } from '../../types.ts';
import type { CacheStore } from '../types.ts';

/**
 * Redis or Dragonfly. Commands fail fast while the server is unreachable (no offline
 * queue), so callers see an error instead of hanging, and the client keeps reconnecting.
 */
export function createRedisCache(url: string, settings: { keyPrefix?: string | undefined } = {}): CacheStore {
  // keyPrefix applies to keys, not to pub/sub channels, so instances with different prefixes still route to each other.
  const options = { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false, keyPrefix: settings.keyPrefix ?? '' } as const;
  const redis = new Redis(url, options);
  // Subscriptions need a connection of their own; opened on first use.
  let subscriber: Redis | undefined;
  const handlers = new Map<string, Set<(message: string) => void>>();
  redis.on('error', () => undefined);

  const subscriberConnection = () => {
    if (subscriber) return subscriber;
    subscriber = new Redis(url, { ...options, enableOfflineQueue: true, maxRetriesPerRequest: null });
    subscriber.on('error', () => undefined);
    subscriber.on('message', (channel: string, message: string) => {
      for (const handler of handlers.get(channel) ?? []) handler(message);
    });
    return subscriber;
  };

  return {
    engine: 'redis',
    get: (key) => redis.get(key),
    async mget(keys) {
      return keys.length === 0 ? [] : redis.mget(...keys);
    },
    async set(key, value, ttlSec) {
      if (ttlSec) await redis.set(key, value, 'EX', ttlSec);
      else await redis.set(key, value);
    },
    async mset(pairs, ttlSec) {
      if (pairs.length === 0) return;
      const pipeline = redis.pipeline();
      for (const [key, value] of pairs) {
        if (ttlSec) pipeline.set(key, value, 'EX', ttlSec);
        else pipeline.set(key, value);
      }
      await pipeline.exec();
    },
    async del(keys) {
      if (keys.length > 0) await redis.del(...keys);
    },
    async hitWindow(key, windowSec) {
      // SET NX EX then INCR in one MULTI: the key can never exist without an expiry.
      const replies = await redis.multi().set(key, '0', 'EX', windowSec, 'NX').incr(key).ttl(key).exec();
      const count = Number(replies?.[1]?.[1] ?? 0);
      const ttl = Number(replies?.[2]?.[1] ?? windowSec);
      return { count, resetInSec: ttl > 0 ? ttl : windowSec };
    },
    async sadd(key, member, ttlSec) {
      const pipeline = redis.pipeline().sadd(key, member);
      if (ttlSec) pipeline.expire(key, ttlSec);
      await pipeline.exec();
    },
    smembers: (key) => redis.smembers(key),
    async srem(key, member) {
      await redis.srem(key, member);
    },
    async zadd(key, pairs) {
      if (pairs.length === 0) return;
      await redis.zadd(key, ...pairs.flatMap(([score, member]) => [score, member]));
    },
    async zrevrange(key, start, stop) {
      const flat = await redis.zrevrange(key, start, stop, 'WITHSCORES');
      const result: { member: string; score: number }[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) result.push({ member: flat[i]!, score: Number(flat[i + 1]) });
      return result;
    },
    async publish(channel, message) {
      await redis.publish(channel, message);
    },
    async subscribe(channel, onMessage) {
      const connection = subscriberConnection();
      let set = handlers.get(channel);
      if (!set) {
        set = new Set();
        handlers.set(channel, set);
        await connection.subscribe(channel);
      }
      set.add(onMessage);
      return async () => {
        const current = handlers.get(channel);
        current?.delete(onMessage);
        if (current && current.size === 0) {
          handlers.delete(channel);
          await connection.unsubscribe(channel);
        }
      };
    },
    health: () => probeHealth('redis', () => redis.ping()),
    async close() {
      redis.disconnect();
      subscriber?.disconnect();
    },
  };
}
