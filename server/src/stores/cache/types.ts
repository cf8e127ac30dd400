import type { StoreHealth } from '../types.ts';

export type Unsubscribe = () => Promise<void>;

/**
 * The cache port: sessions, latest values, rate limits, leaderboards and pub/sub.
 * Redis and Dragonfly serve it over the network; the in-process adapter serves one instance.
 */
export interface CacheStore {
  readonly engine: 'redis' | 'memory';
  get(key: string): Promise<string | null>;
  mget(keys: readonly string[]): Promise<(string | null)[]>;
  set(key: string, value: string, ttlSec?: number): Promise<void>;
  /** Sets many keys with one round trip; the same TTL for all. */
  mset(entries: readonly (readonly [string, string])[], ttlSec?: number): Promise<void>;
  /**
   * Sets each key to its JSON value unless the value stored there is a JSON object whose numeric
   * `seq` is already at least `seq`: atomic per key, so writers racing with older data never win.
   */
  msetIfNewer(entries: readonly (readonly [key: string, value: string, seq: number])[], ttlSec?: number): Promise<void>;
  del(keys: readonly string[]): Promise<void>;
  /** Atomically counts a hit in a fixed window that starts with the first hit. */
  hitWindow(key: string, windowSec: number): Promise<{ count: number; resetInSec: number }>;
  sadd(key: string, member: string, ttlSec?: number): Promise<void>;
  smembers(key: string): Promise<string[]>;
  srem(key: string, member: string): Promise<void>;
  zadd(key: string, entries: readonly (readonly [number, string])[]): Promise<void>;
  /** Highest scores first, inclusive bounds like ZREVRANGE. */
  zrevrange(key: string, start: number, stop: number): Promise<{ member: string; score: number }[]>;
  /** Resolves with how many subscribers (connections, on Redis) received it: 0 says nobody listens. */
  publish(channel: string, message: string): Promise<number>;
  subscribe(channel: string, onMessage: (message: string) => void): Promise<Unsubscribe>;
  /** The server's memory and key count (Redis, Dragonfly: `INFO memory`, `DBSIZE`); the in-process cache has none. */
  size?(): Promise<CacheSize>;
  health(): Promise<StoreHealth>;
  close(): Promise<void>;
}

export interface CacheSize {
  usedBytes: number;
  /** Without the server's own overhead; null where the engine does not say. */
  datasetBytes: number | null;
  keys: number;
}
