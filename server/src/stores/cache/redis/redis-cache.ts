import { once } from 'node:events';
import { Redis } from 'ioredis';
import { probeHealth } from '../../types.ts';
import type { CacheStore } from '../types.ts';

/**
 * Redis or Dragonfly. Commands fail fast while the server is unreachable (no offline
 * queue), so callers see an error instead of hanging, and the client keeps reconnecting.
 */
/** KEYS[1] = value ARGV[1] unless its stored `seq` is >= ARGV[2]; ARGV[3] a TTL in seconds (0: none). */
const SET_IF_NEWER = `
local current = redis.call('GET', KEYS[1])
if current then
  local ok, decoded = pcall(cjson.decode, current)
  if ok and type(decoded) == 'table' and type(decoded.seq) == 'number' and decoded.seq >= tonumber(ARGV[2]) then return 0 end
end
if tonumber(ARGV[3]) > 0 then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3]) else redis.call('SET', KEYS[1], ARGV[1]) end
return 1`;

/**
 * `INFO memory`'s figures: `used_memory` (everything the server allocated) and
 * `used_memory_dataset` (the data itself, without overhead; Dragonfly does not report it: null).
 */
export function parseMemoryInfo(info: string): { usedBytes: number; datasetBytes: number | null } {
  const field = (name: string) => {
    const match = new RegExp(`^${name}:(\\d+)\\r?$`, 'm').exec(info);
    return match ? Number(match[1]) : null;
  };
  return { usedBytes: field('used_memory') ?? 0, datasetBytes: field('used_memory_dataset') };
}

/** How long a size sample waits for a connection still being made. */
const READY_WAIT_MS = 5_000;

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
    async msetIfNewer(entries, ttlSec) {
      if (entries.length === 0) return;
      const pipeline = redis.pipeline();
      for (const [key, value, seq] of entries) pipeline.eval(SET_IF_NEWER, 1, key, value, String(seq), String(ttlSec ?? 0));
      const replies = await pipeline.exec();
      const failed = replies?.find(([error]) => error);
      if (failed) throw failed[0]!;
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
      return redis.publish(channel, message);
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
    async size() {
      // The first sample runs at start, usually before the connection is up, and commands fail fast then.
      if (redis.status !== 'ready') await once(redis, 'ready', { signal: AbortSignal.timeout(READY_WAIT_MS) });
      const [memory, keys] = await Promise.all([redis.info('memory'), redis.dbsize()]);
      return { ...parseMemoryInfo(memory), keys };
    },
    health: () => probeHealth('redis', () => redis.ping()),
    async close() {
      redis.disconnect();
      subscriber?.disconnect();
    },
  };
}
