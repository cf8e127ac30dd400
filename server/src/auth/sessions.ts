import { SESSION_TTL_SEC, type Role } from '@ninjait/shared';
import type { CacheStore } from '../stores/cache/index.ts';
import { hashSecret, newSecret } from './secrets.ts';

/** What a session carries. Role is re-read on change: role and password changes drop sessions. */
export interface SessionUser {
  userId: string;
  email: string;
  role: Role;
  organizationId: string;
}

// Keys hold the hash of the session id, so a cache dump cannot be replayed as logins.
const sessionKey = (sessionId: string) => `session:${hashSecret(sessionId)}`;
const userSessionsKey = (userId: string) => `user-sessions:${userId}`;

export function createSessions(cache: CacheStore, ttlSec = SESSION_TTL_SEC) {
  return {
    async create(user: SessionUser): Promise<string> {
      const sessionId = newSecret('ns_');
      await cache.set(sessionKey(sessionId), JSON.stringify(user), ttlSec);
      await cache.sadd(userSessionsKey(user.userId), hashSecret(sessionId), ttlSec);
      return sessionId;
    },
    async get(sessionId: string): Promise<SessionUser | null> {
      const raw = await cache.get(sessionKey(sessionId));
      return raw ? (JSON.parse(raw) as SessionUser) : null;
    },
    async destroy(sessionId: string, userId: string): Promise<void> {
      await cache.del([sessionKey(sessionId)]);
      await cache.srem(userSessionsKey(userId), hashSecret(sessionId));
    },
    /** Logs a user out everywhere: after a role change, password change or removal. */
    async destroyAllFor(userId: string): Promise<void> {
      const hashes = await cache.smembers(userSessionsKey(userId));
      await cache.del([...hashes.map((hash) => `session:${hash}`), userSessionsKey(userId)]);
    },
  };
}
export type Sessions = ReturnType<typeof createSessions>;
