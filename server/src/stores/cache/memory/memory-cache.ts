import { EventEmitter } from 'node:events';
import type { StoreHealth } from '../../types.ts';
import type { CacheStore } from '../types.ts';

type Entry = { value: string | Set<string> | Map<string, number>; expiresAt: number };

/** How often expired keys are swept; reads also check expiry, so this only bounds memory. */
const SWEEP_INTERVAL_MS = 30_000;

/** The embedded default: one process, the same semantics as the Redis adapter. */
/** The `seq` of a stored JSON object, or -Infinity when it has none. */
function storedSeq(text: string): number {
  try {
    const seq = (JSON.parse(text) as { seq?: unknown }).seq;
    return typeof seq === 'number' ? seq : -Infinity;
  } catch {
    return -Infinity;
  }
}

export function createMemoryCache(now: () => number = Date.now): CacheStore {
  const entries = new Map<string, Entry>();
  const bus = new EventEmitter();
  bus.setMaxListeners(0);

  const live = (key: string): Entry | undefined => {
    const entry = entries.get(key);
    if (entry && entry.expiresAt <= now()) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  };
  const expiry = (ttlSec?: number) => (ttlSec ? now() + ttlSec * 1000 : Number.POSITIVE_INFINITY);
  const sweeper = setInterval(() => {
    for (const key of entries.keys()) live(key);
  }, SWEEP_INTERVAL_MS);
  sweeper.unref();

  const string = (key: string) => {
    const value = live(key)?.value;
    return typeof value === 'string' ? value : null;
  };

  return {
    engine: 'memory',
    async get(key) {
      return string(key);
    },
    async mget(keys) {
      return keys.map(string);
    },
    async set(key, value, ttlSec) {
      entries.set(key, { value, expiresAt: expiry(ttlSec) });
    },
    async mset(pairs, ttlSec) {
      for (const [key, value] of pairs) entries.set(key, { value, expiresAt: expiry(ttlSec) });
    },
    async msetIfNewer(pairs, ttlSec) {
      for (const [key, value, seq] of pairs) {
        const current = live(key);
        if (current && typeof current.value === 'string' && storedSeq(current.value) >= seq) continue;
        entries.set(key, { value, expiresAt: expiry(ttlSec) });
      }
    },
    async del(keys) {
      for (const key of keys) entries.delete(key);
    },
    async hitWindow(key, windowSec) {
      let entry = live(key);
      if (!entry) {
        entry = { value: '0', expiresAt: now() + windowSec * 1000 };
        entries.set(key, entry);
      }
      const count = Number(entry.value) + 1;
      entry.value = String(count);
      return { count, resetInSec: Math.ceil((entry.expiresAt - now()) / 1000) };
    },
    async sadd(key, member, ttlSec) {
      const entry = live(key);
      const set = entry?.value instanceof Set ? entry.value : new Set<string>();
      set.add(member);
      entries.set(key, { value: set, expiresAt: ttlSec ? expiry(ttlSec) : (entry?.expiresAt ?? expiry()) });
    },
    async smembers(key) {
      const value = live(key)?.value;
      return value instanceof Set ? [...value] : [];
    },
    async srem(key, member) {
      const value = live(key)?.value;
      if (value instanceof Set) value.delete(member);
    },
    async zadd(key, pairs) {
      const entry = live(key);
      const scores = entry?.value instanceof Map ? entry.value : new Map<string, number>();
      for (const [score, member] of pairs) scores.set(member, score);
      entries.set(key, { value: scores, expiresAt: entry?.expiresAt ?? expiry() });
    },
    async zrevrange(key, start, stop) {
      const value = live(key)?.value;
      if (!(value instanceof Map)) return [];
      const sorted = [...value].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? 1 : -1));
      const end = stop < 0 ? sorted.length + stop + 1 : stop + 1;
      return sorted.slice(start, end).map(([member, score]) => ({ member, score }));
    },
    async publish(channel, message) {
      const receivers = bus.listenerCount(channel);
      bus.emit(channel, message);
      return receivers;
    },
    async subscribe(channel, onMessage) {
      bus.on(channel, onMessage);
      return async () => {
        bus.off(channel, onMessage);
      };
    },
    async health(): Promise<StoreHealth> {
      return { ok: true, engine: 'memory', latencyMs: 0 };
    },
    async close() {
      clearInterval(sweeper);
      entries.clear();
      bus.removeAllListeners();
    },
  };
}
