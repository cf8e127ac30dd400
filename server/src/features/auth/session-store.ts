import type { SessionUser } from '../../platform/trpc/caller.ts';
import type { CacheStore } from '../../stores/cache/index.ts';

/** What a session carries: the platform's caller identity (the context holds it). */
export type { SessionUser };

/** One of a person's sessions as their sessions page shows it; `id` is a prefix of the token's hash. */
export interface SessionListing {
  id: string;
  createdAt: string | null;
  ip: string | null;
  restricted: boolean;
}
export const SESSION_ID_CHARS = 16;

/**
 * Where sessions are kept, by the SHA-256 of their token (a dump of the store cannot be replayed
 * as logins). It must outlive a server restart: one adapter for a shared cache, one for the
 * relational store when the cache is in-process.
 */
export interface SessionStore {
  readonly kind: 'cache' | 'relational';
  put(tokenHash: string, user: SessionUser, ttlSec: number): Promise<void>;
  /** The session's user, or null when it is unknown or expired. */
  get(tokenHash: string): Promise<SessionUser | null>;
  remove(tokenHash: string, userId: string): Promise<void>;
  removeAllFor(userId: string): Promise<void>;
  /** The user's live sessions by token hash. */
  list(userId: string): Promise<{ tokenHash: string; user: SessionUser }[]>;
}

const sessionKey = (tokenHash: string) => `session:${tokenHash}`;
const userSessionsKey = (userId: string) => `user-sessions:${userId}`;

/** Sessions as cache keys with a TTL, plus a set per user for "log out everywhere". */
export function createCacheSessionStore(cache: CacheStore): SessionStore {
  return {
    kind: 'cache',
    async put(tokenHash, user, ttlSec) {
      await cache.set(sessionKey(tokenHash), JSON.stringify(user), ttlSec);
      await cache.sadd(userSessionsKey(user.userId), tokenHash, ttlSec);
    },
    async get(tokenHash) {
      const raw = await cache.get(sessionKey(tokenHash));
      return raw ? (JSON.parse(raw) as SessionUser) : null;
    },
    async remove(tokenHash, userId) {
      await cache.del([sessionKey(tokenHash)]);
      await cache.srem(userSessionsKey(userId), tokenHash);
    },
    async removeAllFor(userId) {
      const hashes = await cache.smembers(userSessionsKey(userId));
      await cache.del([...hashes.map(sessionKey), userSessionsKey(userId)]);
    },
    async list(userId) {
      const hashes = await cache.smembers(userSessionsKey(userId));
      const found = await Promise.all(hashes.map(async (tokenHash) => ({ tokenHash, raw: await cache.get(sessionKey(tokenHash)) })));
      return found.flatMap(({ tokenHash, raw }) => (raw ? [{ tokenHash, user: JSON.parse(raw) as SessionUser }] : []));
    },
  };
}
