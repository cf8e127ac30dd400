import { API_KEY_PREFIX, SESSION_TTL_SEC } from '@ninjait/shared';
import type { CacheStore } from '../../stores/cache/index.ts';
import type { RelationalStore } from '../../stores/relational/index.ts';
import { hashSecret, newSecret } from '../../platform/secrets.ts';
import { createCacheSessionStore, SESSION_ID_CHARS, type SessionListing, type SessionStore, type SessionUser } from './session-store.ts';
import { createRelationalSessionStore } from './session-repository.ts';

export type { SessionStore, SessionUser } from './session-store.ts';

/**
 * Redis/Dragonfly keep sessions across server restarts and share them between instances; the
 * in-process cache keeps nothing past the process, so sessions then go to the relational store
 * (PGlite in DATA_DIR, or PostgreSQL), which does. Revocations travel over the cache either way.
 */
export function chooseSessionStore(cache: CacheStore, db: RelationalStore): SessionStore {
  return cache.engine === 'memory' ? createRelationalSessionStore(db) : createCacheSessionStore(cache);
}

/**
 * Every instance listens here, so an open subscription ends wherever it runs: a session ended
 * (logout), all of a user's sessions ended (password or role change, removal), or a device retired.
 */
export const REVOCATION_CHANNEL = 'sessions:revoked';

type Revocation =
  | { kind: 'session'; sessionHash: string }
  | { kind: 'user'; userId: string }
  | { kind: 'device'; deviceId: string };

/** Why a watched subscription must end. */
export type RevocationReason = 'session' | 'device';

/** What an open subscription depends on: its session, its user, and the devices it shows. */
export interface WatchScope {
  sessionToken: string;
  userId: string;
  deviceIds?: readonly string[];
}

function parseRevocation(message: string): Revocation | null {
  try {
    const parsed = JSON.parse(message) as Partial<Revocation> & Record<string, unknown>;
    if (parsed.kind === 'session' && typeof parsed.sessionHash === 'string') return { kind: 'session', sessionHash: parsed.sessionHash };
    if (parsed.kind === 'user' && typeof parsed.userId === 'string') return { kind: 'user', userId: parsed.userId };
    if (parsed.kind === 'device' && typeof parsed.deviceId === 'string') return { kind: 'device', deviceId: parsed.deviceId };
  } catch {
    // Not ours or garbled: ignored; the periodic session check is the backstop.
  }
  return null;
}

/**
 * People's sessions: opened at login, checked on every call, ended by logout or by a role or
 * password change. `store` keeps them (the cache unless told otherwise: see `chooseSessionStore`);
 * `cache` carries the revocation signal to every instance's open subscriptions. `apiKeyHolder`
 * answers for API keys (`nk_`), so open subscriptions and call records treat a live key like a
 * live session; what a key may call is decided in `userProcedure`, not here.
 */
export function createSessions(cache: CacheStore, options: { store?: SessionStore; ttlSec?: number; apiKeyHolder?: (key: string) => Promise<SessionUser | null> } = {}) {
  const store = options.store ?? createCacheSessionStore(cache);
  const ttlSec = options.ttlSec ?? SESSION_TTL_SEC;
  /** Best effort: the session is gone already, and subscriptions re-check their session periodically. */
  const announce = (revocation: Revocation) => cache.publish(REVOCATION_CHANNEL, JSON.stringify(revocation)).catch(() => undefined);
  return {
    /** Where sessions live: 'cache' or 'relational'. */
    storeKind: store.kind,
    async create(user: SessionUser): Promise<string> {
      const sessionId = newSecret('ns_');
      await store.put(hashSecret(sessionId), { ...user, createdAt: new Date().toISOString() }, ttlSec);
      return sessionId;
    },
    get(sessionId: string): Promise<SessionUser | null> {
      if (sessionId.startsWith(API_KEY_PREFIX)) return options.apiKeyHolder?.(sessionId) ?? Promise.resolve(null);
      return store.get(hashSecret(sessionId));
    },
    /** Ends one session (logout) and the subscriptions opened with it, on every instance. */
    async destroy(sessionId: string, userId: string): Promise<void> {
      await store.remove(hashSecret(sessionId), userId);
      await announce({ kind: 'session', sessionHash: hashSecret(sessionId) });
    },
    /** The user's live sessions, newest first, the caller's own marked. */
    async list(userId: string, currentToken: string): Promise<(SessionListing & { current: boolean })[]> {
      const current = hashSecret(currentToken).slice(0, SESSION_ID_CHARS);
      const sessions = await store.list(userId);
      return sessions
        .map(({ tokenHash, user }) => ({
          id: tokenHash.slice(0, SESSION_ID_CHARS), createdAt: user.createdAt ?? null, ip: user.ip ?? null, restricted: Boolean(user.restricted),
          current: tokenHash.slice(0, SESSION_ID_CHARS) === current,
        }))
        .sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? ''));
    },
    /** Ends one of the user's sessions by its listed id; false when the user has none with that id. */
    async destroyById(userId: string, id: string): Promise<boolean> {
      const match = (await store.list(userId)).find(({ tokenHash }) => tokenHash.slice(0, SESSION_ID_CHARS) === id);
      if (!match) return false;
      await store.remove(match.tokenHash, userId);
      await announce({ kind: 'session', sessionHash: match.tokenHash });
      return true;
    },
    /** Logs a user out everywhere, open subscriptions included: after a role change, password change or removal. */
    async destroyAllFor(userId: string): Promise<void> {
      await store.removeAllFor(userId);
      await announce({ kind: 'user', userId });
    },
    /** Ends every subscription showing this device (it was decommissioned or replaced), on every instance. */
    async revokeDevice(deviceId: string): Promise<void> {
      await announce({ kind: 'device', deviceId });
    },
    /**
     * Calls `onRevoked` once when something `scope` depends on is revoked on any instance;
     * returns the way to stop listening. The cache adapters share one channel subscription.
     */
    async watch(scope: WatchScope, onRevoked: (reason: RevocationReason) => void): Promise<() => Promise<void>> {
      const sessionHash = hashSecret(scope.sessionToken);
      let fired = false;
      return cache.subscribe(REVOCATION_CHANNEL, (message) => {
        const revocation = parseRevocation(message);
        if (fired || !revocation) return;
        const reason: RevocationReason | null =
          (revocation.kind === 'session' && revocation.sessionHash === sessionHash) || (revocation.kind === 'user' && revocation.userId === scope.userId)
            ? 'session'
            : revocation.kind === 'device' && scope.deviceIds?.includes(revocation.deviceId) ? 'device' : null;
        if (!reason) return;
        fired = true;
        onRevoked(reason);
      });
    },
  };
}
export type Sessions = ReturnType<typeof createSessions>;
