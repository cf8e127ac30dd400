import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localAdminClient } from '@ninjait/server/cli/client';
import { SESSION_COOKIE } from '@ninjait/server/api/context';
import { createRestartableServer, storeCombinations, type RestartableServer } from '../support/restartable-server.ts';
import { httpCall, PASSWORD, unique } from './support.ts';

/**
 * A restart logs nobody out, and revocation still works after it: on every pairing of relational
 * store and cache, people log in (a program's bearer token, the console's cookie), the server
 * process is stopped and started again on the same DATA_DIR, database and key space, and then
 * the same token and cookie are signed in (`auth.me`, what a new console tab asks first), a
 * session ended before the restart stays ended, and logout and role changes end sessions.
 * With the in-process cache sessions used to live only in the process, so every restart
 * logged everyone out.
 */
/**
 * With Redis the sessions live in Redis whichever relational store holds the people, so PGlite +
 * Redis would repeat PostgreSQL + Redis for the sessions and PGlite + in-process cache for what
 * PGlite keeps across a restart and a crash: it runs only where it is the one Redis pairing.
 */
const combinations = storeCombinations();
const pairings = combinations.filter((engines) => !(engines.relational === 'pglite' && engines.cache === 'redis'
  && combinations.some((other) => other.relational === 'postgres' && other.cache === 'redis')));

describe.each(pairings)('sessions across a server restart ($name)', (engines) => {
  let server: RestartableServer;
  let orgName: string;
  const people: Record<'admin' | 'console' | 'program' | 'leaver', { id: string; email: string }> = {} as never;
  const sessions = { admin: '', consoleCookie: '', program: '', ended: '' };

  /** `auth.me` with a bearer token or the console's cookie: null when signed in, else the error code. */
  const me = async (credentials: { token: string } | { cookie: string }) => {
    const outcome = await httpCall(server.url, 'auth.me', 'query', undefined,
      'token' in credentials ? { kind: 'session', token: credentials.token } : { kind: 'headers', headers: { cookie: `${SESSION_COOKIE}=${credentials.cookie}` } });
    return outcome.code;
  };
  const login = async (email: string) => {
    const outcome = await httpCall(server.url, 'auth.login', 'mutation', { email, password: PASSWORD }, { kind: 'anonymous' });
    expect(outcome.ok, outcome.message).toBe(true);
    return (outcome.data as { sessionToken: string }).sessionToken;
  };
  /** What the console does: cookieLogin from its own origin; the token only ever sits in the cookie. */
  const consoleLogin = async (email: string) => {
    const res = await fetch(`${server.url}/trpc/auth.cookieLogin`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: server.url, 'sec-fetch-site': 'same-origin' },
      body: JSON.stringify({ email, password: PASSWORD }),
    });
    expect(res.status).toBe(200);
    return (res.headers.get('set-cookie') ?? '').split(';')[0]!.split('=')[1]!;
  };

  beforeAll(async () => {
    server = await createRestartableServer(engines, { RATE_LIMIT_MAX: '100000' });
    await server.start();
    const admin = await localAdminClient({ server: server.url, 'data-dir': server.dataDir });
    orgName = `Restart-${unique()}`;
    await admin.admin.organizations.create.mutate({ name: orgName });
    for (const [who, role] of [['admin', 'admin'], ['console', 'viewer'], ['program', 'technician'], ['leaver', 'viewer']] as const) {
      const email = `${who}-${unique()}@restart.test`;
      const user = await admin.admin.users.create.mutate({ org: orgName, email, password: PASSWORD, role });
      people[who] = { id: user.id, email };
    }
    sessions.admin = await login(people.admin.email);
    sessions.program = await login(people.program.email);
    sessions.consoleCookie = await consoleLogin(people.console.email);
    sessions.ended = await login(people.leaver.email);
    expect((await httpCall(server.url, 'auth.logout', 'mutation', undefined, { kind: 'session', token: sessions.ended })).ok).toBe(true);
    expect(await me({ token: sessions.program })).toBeNull();

    await server.stop('SIGTERM');
    await server.start();
  }, 300_000);
  afterAll(async () => {
    await server?.destroy();
  });

  it('keeps the bearer token and the console cookie signed in', async () => {
    expect(await me({ token: sessions.program })).toBeNull();
    expect(await me({ token: sessions.admin })).toBeNull();
    expect(await me({ cookie: sessions.consoleCookie })).toBeNull();
    const answer = await httpCall(server.url, 'auth.me', 'query', undefined, { kind: 'session', token: sessions.program });
    expect(answer.data).toMatchObject({ userId: people.program.id, email: people.program.email, role: 'technician', organizationName: orgName });
  });

  it('keeps a session that ended before the restart ended, and refuses made-up tokens', async () => {
    expect(await me({ token: sessions.ended })).toBe('UNAUTHORIZED');
    expect(await me({ token: `ns_${'A'.repeat(43)}` })).toBe('UNAUTHORIZED');
    expect(await me({ cookie: 'ns_not-a-session' })).toBe('UNAUTHORIZED');
  });

  it('ends the console session on logout after the restart', async () => {
    const logout = await httpCall(server.url, 'auth.logout', 'mutation', undefined, { kind: 'headers', headers: { cookie: `${SESSION_COOKIE}=${sessions.consoleCookie}` } });
    expect(logout.ok, logout.message).toBe(true);
    expect(await me({ cookie: sessions.consoleCookie })).toBe('UNAUTHORIZED');
    expect(await me({ token: sessions.program })).toBeNull();
  });

  it('ends every session of a user whose role changes after the restart, and only theirs', async () => {
    const second = await login(people.program.email);
    const changed = await httpCall(server.url, 'users.setRole', 'mutation', { userId: people.program.id, role: 'viewer' }, { kind: 'session', token: sessions.admin });
    expect(changed.ok, changed.message).toBe(true);
    expect(await me({ token: sessions.program })).toBe('UNAUTHORIZED');
    expect(await me({ token: second })).toBe('UNAUTHORIZED');
    expect(await me({ token: sessions.admin })).toBeNull();
    // A new login carries the new role.
    const fresh = await login(people.program.email);
    expect((await httpCall(server.url, 'auth.me', 'query', undefined, { kind: 'session', token: fresh })).data).toMatchObject({ role: 'viewer' });
  });

  // With Redis the sessions never were in the server process; a crash proves something only where they are written by it.
  it.skipIf(engines.cache === 'redis')('keeps what was decided after the restart through another one, a crash this time', async () => {
    const opened = await login(people.leaver.email);
    await server.stop('SIGKILL');
    await server.start();
    expect(await me({ token: opened })).toBeNull();
    expect(await me({ token: sessions.admin })).toBeNull();
    expect(await me({ token: sessions.program })).toBe('UNAUTHORIZED');
    expect(await me({ cookie: sessions.consoleCookie })).toBe('UNAUTHORIZED');
  }, 200_000);
});
