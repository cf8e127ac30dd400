import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryCache, createRedisCache, type CacheStore } from '../../stores/cache/index.ts';
import { migrate, openRelationalStore, type RelationalStore } from '../../stores/relational/index.ts';
import { createScratchDatabase } from '../../../test-support/databases.ts';
import { dropRedisKeys } from '../../../test-support/redis-keys.ts';
import { createOrganization } from '../organizations/organizations.ts';
import { createUser } from './users.ts';
import { createCacheSessionStore, type SessionStore, type SessionUser } from './session-store.ts';
import { createRelationalSessionStore, EXPIRED_SESSIONS_PER_LOGIN } from './session-repository.ts';
import { chooseSessionStore, createSessions } from './sessions.ts';
import { hashSecret } from '../../platform/secrets.ts';

/**
 * One contract for every place sessions are kept: the cache adapters (in-process, Redis) and the
 * relational one (PGlite, PostgreSQL) that the embedded default now uses so restarts keep them.
 * Users are real rows: the relational store ties a session to its user.
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type MakeUser = (email: string, role: SessionUser['role']) => Promise<SessionUser>;

interface Backend {
  name: string;
  open(): Promise<{ store: SessionStore; makeUser: MakeUser; cleanup(): Promise<void> }>;
}

async function openDb(kind: 'pglite' | 'postgres') {
  const database = kind === 'postgres' ? await createScratchDatabase(process.env.DATABASE_URL, 'ninjait_sessions') : null;
  const db = await openRelationalStore({ databaseUrl: database?.url });
  await migrate(db);
  return { db, cleanup: async () => { await db.close(); await database?.drop(); } };
}

/** Real rows: the relational store ties each session to its user. */
async function realUsers(db: RelationalStore): Promise<MakeUser> {
  const org = await createOrganization(db, `Sessions ${randomBytes(3).toString('hex')}`);
  return async (email, role) => {
    const user = await createUser(db, { email, password: 'a long enough password', role, organizationId: org.id });
    return { userId: user.id, email: user.email, role: user.role, organizationId: org.id };
  };
}
/** The cache keeps whatever it is given: no database needed. */
const madeUpUsers: MakeUser = async (email, role) => ({ userId: randomUUID(), email, role, organizationId: randomUUID() });

/** The Redis adapter queues nothing while it connects: wait until it answers. */
async function connected(cache: CacheStore): Promise<CacheStore> {
  for (let attempt = 0; attempt < 100 && !(await cache.health()).ok; attempt++) await sleep(50);
  return cache;
}

const relational = (kind: 'pglite' | 'postgres') => async () => {
  const { db, cleanup } = await openDb(kind);
  return { store: createRelationalSessionStore(db), makeUser: await realUsers(db), cleanup };
};

const backends: Backend[] = [
  { name: 'relational on PGlite', open: relational('pglite') },
  { name: 'in-process cache', async open() {
    const cache = createMemoryCache();
    return { store: createCacheSessionStore(cache), makeUser: madeUpUsers, cleanup: () => cache.close() };
  } },
];
if (process.env.DATABASE_URL) backends.push({ name: 'relational on PostgreSQL', open: relational('postgres') });
else console.warn('DATABASE_URL is not set: the PostgreSQL session store is not tested (PGlite is)');
if (process.env.REDIS_URL) {
  const url = process.env.REDIS_URL;
  backends.push({ name: 'Redis', async open() {
    const prefix = `test:sessions:${randomBytes(4).toString('hex')}:`;
    const cache = await connected(createRedisCache(url, { keyPrefix: prefix }));
    return { store: createCacheSessionStore(cache), makeUser: madeUpUsers, cleanup: async () => { await cache.close(); await dropRedisKeys(url, [`${prefix}*`]); } };
  } });
} else {
  console.warn('REDIS_URL is not set: the Redis session store is not tested (the in-process cache is)');
}

const hashOf = () => hashSecret(randomBytes(32).toString('base64url'));

describe.each(backends)('session store: $name', (backend) => {
  let store: SessionStore;
  let cleanup: () => Promise<void>;
  let alice: SessionUser;
  let bob: SessionUser;

  beforeAll(async () => {
    let makeUser: MakeUser;
    ({ store, makeUser, cleanup } = await backend.open());
    alice = await makeUser('alice@sessions.test', 'admin');
    bob = await makeUser('bob@sessions.test', 'viewer');
  }, 60_000);
  afterAll(() => cleanup?.());

  it('gives back what was put, and nothing for a hash it never saw', async () => {
    const hash = hashOf();
    await store.put(hash, alice, 60);
    expect(await store.get(hash)).toMatchObject(alice);
    expect(await store.get(hashOf())).toBeNull();
  });

  it('ends one session on remove, leaving the user\'s others and other people\'s', async () => {
    const [one, two, theirs] = [hashOf(), hashOf(), hashOf()];
    await store.put(one, alice, 60);
    await store.put(two, alice, 60);
    await store.put(theirs, bob, 60);
    await store.remove(one, alice.userId);
    expect([await store.get(one), await store.get(two), await store.get(theirs)]).toMatchObject([null, alice, bob]);
  });

  it('ends every session of one user on removeAllFor, and only theirs', async () => {
    const mine = [hashOf(), hashOf(), hashOf()];
    const theirs = hashOf();
    for (const hash of mine) await store.put(hash, alice, 60);
    await store.put(theirs, bob, 60);
    await store.removeAllFor(alice.userId);
    for (const hash of mine) expect(await store.get(hash)).toBeNull();
    expect(await store.get(theirs)).toMatchObject(bob);
  });

  it('forgets a session when its time is up', async () => {
    const hash = hashOf();
    await store.put(hash, bob, 1);
    expect(await store.get(hash)).toMatchObject(bob);
    await sleep(2_100);
    expect(await store.get(hash)).toBeNull();
  });

  it('answers any token a client sends, however long or odd, with "no session" and no error', async () => {
    const signals = createMemoryCache();
    const sessions = createSessions(signals, { store });
    try {
      for (const token of ['', 'x'.repeat(100_000), '\u0000\uffff', 'ns_' + '\u{1F600}'.repeat(50), "'; DROP TABLE sessions; --"]) {
        expect(await sessions.get(token)).toBeNull();
      }
    } finally {
      await signals.close();
    }
  });
});

describe('relational session store: housekeeping', () => {
  let db: RelationalStore;
  let cleanup: () => Promise<void>;
  let user: SessionUser;
  beforeAll(async () => {
    ({ db, cleanup } = await openDb('pglite'));
    user = await (await realUsers(db))('carol@sessions.test', 'technician');
  }, 60_000);
  afterAll(() => cleanup?.());

  const count = async () => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM sessions')).rows[0]!.n;

  it('deletes expired rows a bounded few at a time as sessions open', async () => {
    const store = createRelationalSessionStore(db);
    const expired = EXPIRED_SESSIONS_PER_LOGIN * 2 + 7;
    await db.query(
      `INSERT INTO sessions (token_hash, user_id, organization_id, email, role, expires_at)
       SELECT md5(i::text) || md5((i + 1)::text), $1, $2, $3, $4, NOW() - INTERVAL '1 minute' FROM generate_series(1, $5::int) AS i`,
      [user.userId, user.organizationId, user.email, user.role, expired],
    );
    const live = hashOf();
    await store.put(live, user, 60);
    expect(await count()).toBe(expired - EXPIRED_SESSIONS_PER_LOGIN + 1);
    await store.put(hashOf(), user, 60);
    await store.put(hashOf(), user, 60);
    expect(await count()).toBe(3);
    expect(await store.get(live)).toMatchObject(user);
  });

  it('drops a user\'s sessions with the user', async () => {
    const store = createRelationalSessionStore(db);
    const hash = hashOf();
    await store.put(hash, user, 60);
    await db.query('DELETE FROM users WHERE id = $1', [user.userId]);
    expect(await store.get(hash)).toBeNull();
    expect(await count()).toBe(0);
  });

  it('is the store chosen when the cache is in-process, and Redis keeps its own', async () => {
    const memory = createMemoryCache();
    expect(chooseSessionStore(memory, db).kind).toBe('relational');
    await memory.close();
    if (!process.env.REDIS_URL) return;
    const cache = createRedisCache(process.env.REDIS_URL, { keyPrefix: `test:choose:${randomBytes(4).toString('hex')}:` });
    try {
      expect(chooseSessionStore(cache, db).kind).toBe('cache');
    } finally {
      await cache.close();
    }
  });
});
