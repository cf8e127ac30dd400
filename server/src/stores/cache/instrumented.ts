import { timed, type QueryObserver } from '../../platform/obs/query-observer.ts';
import type { Metrics } from '../../platform/obs/metrics.ts';
import type { CacheStore } from './types.ts';

const STORE = 'cache';
const FAMILY = /^[a-z][a-z_-]{0,30}$/;

/**
 * A key's family for the `family` label: its first segment (`device` of `device:latest:<id>`),
 * or `other`. Never the key itself, which holds ids: one series per device would never end.
 */
export function keyFamily(key: string): string {
  const first = key.split(':', 1)[0]!;
  return FAMILY.test(first) ? first : 'other';
}

export interface CacheObserver extends QueryObserver {
  metrics: QueryObserver['metrics'] & Pick<Metrics, 'cacheReads' | 'cacheHitRatio'>;
}

/**
 * The same cache with every command timed (`store="cache"`), and its reads (`get`, `mget`, each
 * key) counted as hits or misses: the strategy's hit-rate target (> 95 %) is about these.
 */
export function instrumentCacheStore(store: CacheStore, observer: CacheObserver): CacheStore {
  const tally = { hits: 0, misses: 0 };
  const counted = (keys: readonly string[], values: (string | null)[]) => {
    keys.forEach((key, i) => {
      const hit = values[i] !== null && values[i] !== undefined;
      if (hit) tally.hits++;
      else tally.misses++;
      observer.metrics.cacheReads.inc({ family: keyFamily(key), result: hit ? 'hit' : 'miss' });
    });
    if (keys.length > 0) observer.metrics.cacheHitRatio.set(tally.hits / (tally.hits + tally.misses));
    return values;
  };
  const run = <T>(operation: string, text: () => string, call: () => Promise<T>) => timed(observer, STORE, operation, text, call);
  const keyList = (keys: readonly string[]) => `${keys.length} keys, ${keys.slice(0, 3).join(' ')}${keys.length > 3 ? ' …' : ''}`;
  return {
    engine: store.engine,
    get: (key) => run('get', () => `GET ${key}`, async () => counted([key], [await store.get(key)])[0]!),
    mget: (keys) => run('mget', () => `MGET ${keyList(keys)}`, async () => counted(keys, await store.mget(keys))),
    set: (key, value, ttlSec) => run('set', () => `SET ${key}`, () => store.set(key, value, ttlSec)),
    mset: (entries, ttlSec) => run('mset', () => `MSET ${keyList(entries.map(([key]) => key))}`, () => store.mset(entries, ttlSec)),
    msetIfNewer: (entries, ttlSec) => run('msetIfNewer', () => `SET-IF-NEWER ${keyList(entries.map(([key]) => key))}`, () => store.msetIfNewer(entries, ttlSec)),
    del: (keys) => run('del', () => `DEL ${keyList(keys)}`, () => store.del(keys)),
    hitWindow: (key, windowSec) => run('hitWindow', () => `HIT-WINDOW ${key}`, () => store.hitWindow(key, windowSec)),
    sadd: (key, member, ttlSec) => run('sadd', () => `SADD ${key}`, () => store.sadd(key, member, ttlSec)),
    smembers: (key) => run('smembers', () => `SMEMBERS ${key}`, () => store.smembers(key)),
    srem: (key, member) => run('srem', () => `SREM ${key}`, () => store.srem(key, member)),
    zadd: (key, entries) => run('zadd', () => `ZADD ${key}`, () => store.zadd(key, entries)),
    zrevrange: (key, start, stop) => run('zrevrange', () => `ZREVRANGE ${key}`, () => store.zrevrange(key, start, stop)),
    publish: (channel, message) => run('publish', () => `PUBLISH ${channel}`, () => store.publish(channel, message)),
    // A subscription lives as long as its listener: only setting it up is timed.
    subscribe: (channel, onMessage) => run('subscribe', () => `SUBSCRIBE ${channel}`, () => store.subscribe(channel, onMessage)),
    ...(store.size ? { size: store.size.bind(store) } : {}),
    health: () => store.health(),
    close: () => store.close(),
  };
}
