import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '@ninjait/server/testing';
import { DEFAULT_PASSWORD_HASH_COST, setPasswordHashCost } from '@ninjait/server/auth/secrets';
import { PAIR_FREE } from '@ninjait/server/auth/login-throttle';
import { FAILED_LOGIN_ACTION } from '@ninjait/server/auth/failed-login-audit';
import { SESSION_COOKIE } from '@ninjait/server/api/context';
import { trpcHttp, TrpcCallError } from '@ninjait/bench/http-trpc';
import { authKind, engineVariants, httpCall, invoke, PASSWORD, procedures, Sockets, unique, type Credentials, type Outcome } from './support.ts';

/**
 * People and organizations, as the console manages them, against a real server on each engine pair:
 * - changing one's own password checks the current one like a login: the same throttle (a stolen
 *   session guesses no faster than a login could, and its failures slow logins at that account),
 *   the same password queue (a burst of checks is refused, not queued without bound), failures audited;
 * - role rules: nobody grants, changes or removes above their own role, nobody removes or resets
 *   themselves, an organization keeps an owner even when two owners demote each other at once;
 * - a removed person's sessions end and their login stops; their email can be used again;
 * - an admin's reset ends the person's sessions and never writes the password anywhere;
 * - only the owners of the install's own organization (the first one) list every organization and
 *   create one; the new organization's people see nothing of any other (every query without input
 *   is swept for the others' names, ids and emails);
 * - `auth.session` answers null, not an error, without a live session.
 */

/** A fresh 127.x.y.z for each use: the throttle counts per address. */
let lastAddress = 0;
const nextAddress = () => `127.${(process.pid >> 8) & 0xff}.${(process.pid & 0xff) ^ 0x55}.${++lastAddress}`;

type Role = 'viewer' | 'technician' | 'admin' | 'owner';
interface Person { id: string; email: string; session: string }

describe.each(engineVariants())('people and organizations ($name)', (engines) => {
  let h: Harness;
  let sockets: Sockets;
  let installOrg: { id: string; name: string };
  let tenantOrg: { id: string; name: string };
  let installOwner: Person;
  let tenantOwner: Person;

  const login = async (email: string, password = PASSWORD) => (await h.http().auth.login.mutate({ email, password })).sessionToken;
  const addPerson = async (orgId: string, role: Role): Promise<Person> => {
    const email = `${role}-${unique()}@people.test`;
    const user = await h.admin.admin.users.create.mutate({ org: orgId, email, password: PASSWORD, role });
    return { id: user.id, email, session: await login(email) };
  };
  const as = (person: Person) => h.http({ authorization: `Bearer ${person.session}` });
  const call = (person: Person, path: string, type: 'query' | 'mutation', input?: unknown) =>
    httpCall(h.server.url, path, type, input, { kind: 'session', token: person.session });
  const codeOf = (outcome: Outcome) => outcome.code;
  /** A call from a chosen source address: null for success, else the error's code and message. */
  const from = (address: string, person: Person, path: string, input: unknown) =>
    trpcHttp(h.server.url, path, 'mutation', input, { localAddress: address, headers: { authorization: `Bearer ${person.session}` } }).then(
      () => ({ code: null, message: '' }),
      (error: unknown) => (error instanceof TrpcCallError ? { code: error.code, message: error.message } : { code: 'TRANSPORT', message: String(error) }),
    );
  const auditOf = (organizationId: string, action: string) =>
    h.server.services.documents.auditLog.find({ organizationId, action, limit: 1_000 });

  beforeAll(async () => {
    await engines.reset();
    h = await startHarness({ relational: engines.relational, cache: engines.cache, env: { RATE_LIMIT_MAX: '1000000', ...engines.env } });
    sockets = new Sockets(h.server.url);
    // The first organization of the server is the install's own, as `npm start` makes it.
    installOrg = await h.admin.admin.organizations.create.mutate({ name: `Install-${unique()}` });
    tenantOrg = await h.admin.admin.organizations.create.mutate({ name: `Tenant-${unique()}` });
    installOwner = await addPerson(installOrg.id, 'owner');
    tenantOwner = await addPerson(tenantOrg.id, 'owner');
  }, 120_000);
  afterAll(async () => {
    await sockets?.closeAll();
    await h?.stop();
    await engines.reset();
  });

  describe('changing one\'s own password', () => {
    it('counts a wrong current password in the login throttle, audits it, and holds logins at that account too', async () => {
      const person = await addPerson(tenantOrg.id, 'viewer');
      const [thief, owner] = [nextAddress(), nextAddress()];
      const wrong = (i: number) => ({ currentPassword: `a guess ${i}`, newPassword: 'a new long passphrase' });
      for (let i = 0; i <= PAIR_FREE; i++) {
        expect(await from(thief, person, 'users.changePassword', wrong(i))).toEqual({ code: 'FORBIDDEN', message: 'The current password is wrong' });
      }
      const held = await from(thief, person, 'users.changePassword', wrong(99));
      expect(held.code).toBe('TOO_MANY_REQUESTS');
      expect(held.message).toMatch(/Too many failed logins; try again in \d+ s/);
      // The same counters as logins: that address cannot switch to logging in to keep guessing.
      const loginAttempt = await trpcHttp(h.server.url, 'auth.login', 'mutation', { email: person.email, password: PASSWORD }, { localAddress: thief })
        .then(() => 'logged in', (error: TrpcCallError) => error.code);
      expect(loginAttempt).toBe('TOO_MANY_REQUESTS');
      // No lockout: from elsewhere the person changes it with the right one.
      expect(await from(owner, person, 'users.changePassword', { currentPassword: PASSWORD, newPassword: 'a new long passphrase' })).toEqual({ code: null, message: '' });
      const failures = (await auditOf(tenantOrg.id, FAILED_LOGIN_ACTION)).filter((entry) => entry.userId === person.id);
      expect(failures.length).toBeGreaterThanOrEqual(PAIR_FREE + 1);
      expect(failures.filter((entry) => entry.details.during === 'password_change').length).toBeGreaterThanOrEqual(PAIR_FREE + 1);
      expect(JSON.stringify(failures)).not.toContain('a guess');
    }, 60_000);

    it('checks passwords in the password queue: a burst from one address is refused at once beyond its share', async () => {
      // At the real hash cost (npm test lowers it), which is what makes a queue of checks: the
      // person's hash is made at it, and each check is verified with the hash's own cost.
      setPasswordHashCost(DEFAULT_PASSWORD_HASH_COST);
      const person = await addPerson(tenantOrg.id, 'viewer').finally(() => setPasswordHashCost(h.server.services.env.PASSWORD_HASH_COST));
      const address = nextAddress();
      const burst = await Promise.all(Array.from({ length: 48 }, (_, i) =>
        from(address, person, 'users.changePassword', { currentPassword: `burst ${i}`, newPassword: 'another long passphrase' })));
      const codes = burst.map((outcome) => outcome.code);
      expect(new Set(codes)).toEqual(new Set(['FORBIDDEN', 'TOO_MANY_REQUESTS']));
      expect(burst.filter((outcome) => /busy checking other logins/.test(outcome.message)).length).toBeGreaterThan(0);
      // Nothing changed: the person still logs in with the password they had.
      expect(await login(person.email)).toMatch(/^ns_/);
    }, 180_000);
  });

  describe('role rules', () => {
    it('lets nobody grant, change or remove above their own role, or remove or reset themselves', async () => {
      const admin = await addPerson(tenantOrg.id, 'admin');
      const owner = await addPerson(tenantOrg.id, 'owner');
      const viewer = await addPerson(tenantOrg.id, 'viewer');
      const cases: [string, Outcome, string][] = [
        ['admin adds an owner', await call(admin, 'users.create', 'mutation', { email: `${unique()}@people.test`, role: 'owner' }), 'FORBIDDEN'],
        ['admin raises a viewer to owner', await call(admin, 'users.setRole', 'mutation', { userId: viewer.id, role: 'owner' }), 'FORBIDDEN'],
        ['admin demotes an owner', await call(admin, 'users.setRole', 'mutation', { userId: owner.id, role: 'viewer' }), 'FORBIDDEN'],
        ['admin removes an owner', await call(admin, 'users.remove', 'mutation', { userId: owner.id }), 'FORBIDDEN'],
        ["admin resets an owner's password", await call(admin, 'users.resetPassword', 'mutation', { userId: owner.id }), 'FORBIDDEN'],
        ['admin removes themselves', await call(admin, 'users.remove', 'mutation', { userId: admin.id }), 'FORBIDDEN'],
        ['admin resets their own password', await call(admin, 'users.resetPassword', 'mutation', { userId: admin.id }), 'FORBIDDEN'],
        ['viewer removes a viewer', await call(viewer, 'users.remove', 'mutation', { userId: viewer.id }), 'FORBIDDEN'],
        ["another organization's owner changes a role", await call(installOwner, 'users.setRole', 'mutation', { userId: viewer.id, role: 'admin' }), 'NOT_FOUND'],
        ["another organization's owner removes someone", await call(installOwner, 'users.remove', 'mutation', { userId: viewer.id }), 'NOT_FOUND'],
        ["another organization's owner resets a password", await call(installOwner, 'users.resetPassword', 'mutation', { userId: viewer.id }), 'NOT_FOUND'],
      ];
      expect(cases.filter(([, outcome, code]) => outcome.code !== code).map(([name, outcome]) => `${name}: ${outcome.code ?? 'success'} ${outcome.message}`)).toEqual([]);
      // Within their role they may: an admin makes a viewer an admin, an owner demotes that admin again.
      expect(codeOf(await call(admin, 'users.setRole', 'mutation', { userId: viewer.id, role: 'admin' }))).toBeNull();
      expect(codeOf(await call(owner, 'users.setRole', 'mutation', { userId: viewer.id, role: 'viewer' }))).toBeNull();
    }, 60_000);

    it('keeps an owner in every organization, even when the last two owners demote each other at once', async () => {
      const org = await h.admin.admin.organizations.create.mutate({ name: `Owners-${unique()}` });
      const [first, second] = [await addPerson(org.id, 'owner'), await addPerson(org.id, 'owner')];
      const outcomes = await Promise.all([
        call(first, 'users.setRole', 'mutation', { userId: second.id, role: 'admin' }),
        call(second, 'users.setRole', 'mutation', { userId: first.id, role: 'admin' }),
      ]);
      // One demotion wins; the other is refused, by the rule or because its author lost the role (session ended).
      expect(outcomes.filter((outcome) => outcome.ok)).toHaveLength(1);
      const owners = await h.server.services.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM users WHERE organization_id = $1 AND role = 'owner' AND removed_at IS NULL`, [org.id]);
      expect(owners.rows[0]!.n).toBe(1);
      const [remaining] = outcomes[0]!.ok ? [first] : [second];
      remaining.session = await login(remaining.email);
      const demoteSelf = await call(remaining, 'users.setRole', 'mutation', { userId: remaining.id, role: 'admin' });
      expect([demoteSelf.code, demoteSelf.message]).toEqual(['CONFLICT', 'An organization needs at least one owner: make someone else an owner first']);
      expect(codeOf(await call(remaining, 'users.remove', 'mutation', { userId: remaining.id }))).toBe('FORBIDDEN');
    }, 60_000);
  });

  it('stores names with characters PostgreSQL refuses (NUL, a lone surrogate) instead of failing', async () => {
    const admin = await addPerson(tenantOrg.id, 'admin');
    const created = await call(admin, 'users.create', 'mutation', { email: `${unique()}@people.test`, role: 'viewer', name: 'Nul\u0000 and \ud800 here' });
    expect(created.code, created.message).toBeNull();
    expect((created.data as { name: string }).name).toBe('Nul\ufffd and \ufffd here');
    const organization = await call(installOwner, 'organizations.create', 'mutation', { name: `Odd\u0000${unique()}`, email: `${unique()}@people.test`, personName: '\udfff' });
    expect(organization.code, organization.message).toBeNull();
    expect((organization.data as { name: string }).name).toMatch(/^Odd\ufffd/);
  });

  it('ends a removed person\'s sessions and logins, keeps them out of the list, and frees their email', async () => {
    const admin = await addPerson(tenantOrg.id, 'admin');
    const leaving = await addPerson(tenantOrg.id, 'technician');
    const other = await login(leaving.email);
    expect(codeOf(await call(admin, 'users.remove', 'mutation', { userId: leaving.id }))).toBeNull();
    for (const token of [leaving.session, other]) {
      expect((await httpCall(h.server.url, 'auth.me', 'query', undefined, { kind: 'session', token })).code).toBe('UNAUTHORIZED');
    }
    expect((await httpCall(h.server.url, 'auth.login', 'mutation', { email: leaving.email, password: PASSWORD }, { kind: 'anonymous' })).code).toBe('UNAUTHORIZED');
    expect((await as(admin).users.list.query()).map((user) => user.id)).not.toContain(leaving.id);
    expect(codeOf(await call(admin, 'users.remove', 'mutation', { userId: leaving.id }))).toBe('NOT_FOUND');
    const again = await as(admin).users.create.mutate({ email: leaving.email, role: 'viewer' });
    expect(again.id).not.toBe(leaving.id);
    expect(await login(leaving.email, again.initialPassword!)).toMatch(/^ns_/);
    expect((await auditOf(tenantOrg.id, 'user.delete')).some((entry) => entry.resourceId === leaving.id && entry.userId === admin.id)).toBe(true);
  }, 60_000);

  it("resets someone's password: their sessions end, the new one works, and it is written nowhere", async () => {
    const admin = await addPerson(tenantOrg.id, 'admin');
    const person = await addPerson(tenantOrg.id, 'viewer');
    const { password } = await as(admin).users.resetPassword.mutate({ userId: person.id });
    expect(password).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect((await httpCall(h.server.url, 'auth.me', 'query', undefined, { kind: 'session', token: person.session })).code).toBe('UNAUTHORIZED');
    expect((await httpCall(h.server.url, 'auth.login', 'mutation', { email: person.email, password: PASSWORD }, { kind: 'anonymous' })).code).toBe('UNAUTHORIZED');
    expect(await login(person.email, password!)).toMatch(/^ns_/);
    const chosen = await as(admin).users.resetPassword.mutate({ userId: person.id, password: 'a chosen long password' });
    expect(chosen.password).toBeNull();
    const audits = await h.server.services.documents.auditLog.find({ organizationId: tenantOrg.id, limit: 1_000 });
    expect(JSON.stringify(audits)).not.toContain(password);
    expect(JSON.stringify(audits)).not.toContain('a chosen long password');
    expect(audits.filter((entry) => entry.action === 'user.password_reset' && entry.resourceId === person.id)).toHaveLength(2);
  }, 60_000);

  describe('organizations', () => {
    it("lists every organization to the install's owners only; a tenant's owner sees their own", async () => {
      const installAdmin = await addPerson(installOrg.id, 'admin');
      const everything = (await as(installOwner).organizations.list.query()).map((org) => org.id);
      expect(everything).toEqual(expect.arrayContaining([installOrg.id, tenantOrg.id]));
      expect(everything[0]).toBe(installOrg.id);
      expect((await as(tenantOwner).organizations.list.query()).map((org) => org.id)).toEqual([tenantOrg.id]);
      expect(codeOf(await call(installAdmin, 'organizations.list', 'query'))).toBe('FORBIDDEN');
      expect((await as(installOwner).auth.me.query()).runsServer).toBe(true);
      expect((await as(tenantOwner).auth.me.query()).runsServer).toBe(false);
      // The server's health: its own admins see it; a tenant's admins see only their organization's part.
      expect((await as(installAdmin).system.status.query()).server?.stores.map((store) => store.name)).toEqual(expect.arrayContaining(['relational', 'cache']));
      expect((await as(tenantOwner).system.status.query()).server).toBeNull();
    });

    it("creates an organization with its first person for the install's owners only, atomically, and the new people see nothing else", async () => {
      const refused = await call(tenantOwner, 'organizations.create', 'mutation', { name: `Sneaky-${unique()}`, email: `${unique()}@people.test` });
      expect([refused.code, refused.message]).toEqual(['FORBIDDEN', 'Only the people who run this server can create organizations; ask them if you need it']);

      const name = `Client-${unique()}`;
      const email = `first-${unique()}@people.test`;
      const created = await as(installOwner).organizations.create.mutate({ name, email, personName: 'First Person' });
      expect(created).toMatchObject({ name, firstPerson: { email, role: 'owner' } });
      const newOwner: Person = { id: created.firstPerson.id, email, session: await login(email, created.initialPassword!) };
      expect(await as(newOwner).auth.me.query()).toMatchObject({ organizationId: created.id, organizationName: name, runsServer: false });
      expect((await as(newOwner).organizations.list.query()).map((org) => org.id)).toEqual([created.id]);
      expect(codeOf(await call(newOwner, 'organizations.create', 'mutation', { name: `Nested-${unique()}`, email: `${unique()}@people.test` }))).toBe('FORBIDDEN');

      // Every query a person calls without input, as the new owner: nothing of the other organizations.
      const others = [installOrg.id, installOrg.name, tenantOrg.id, tenantOrg.name, installOwner.id, installOwner.email, tenantOwner.id, tenantOwner.email];
      const asNew: Credentials = { kind: 'session', token: newOwner.session };
      const queries = procedures.filter((info) => info.type === 'query' && authKind(info.path) === 'user' && info.inputOptional);
      expect(queries.length).toBeGreaterThan(10);
      const answers = await Promise.all(queries.map(async (info) => ({ path: info.path, outcome: await invoke(h, sockets, info, undefined, asNew) })));
      expect(answers.flatMap(({ path, outcome }) => others.filter((value) => outcome.text.includes(value)).map((value) => `${path} carries ${value}`))).toEqual([]);

      // A name or email already taken refuses the whole thing: no organization without its person.
      const taken = await call(installOwner, 'organizations.create', 'mutation', { name: `Orphan-${unique()}`, email });
      expect(taken.code).toBe('CONFLICT');
      expect((await as(installOwner).organizations.list.query()).some((org) => org.name.startsWith('Orphan-'))).toBe(false);
      expect(codeOf(await call(installOwner, 'organizations.create', 'mutation', { name: name.toUpperCase(), email: `${unique()}@people.test` }))).toBe('CONFLICT');

      // Audited where it was done and where it landed.
      expect((await auditOf(installOrg.id, 'organization.create')).some((entry) => entry.resourceId === created.id && entry.userId === installOwner.id)).toBe(true);
      expect((await auditOf(created.id, 'organization.create')).some((entry) => entry.resourceId === created.id)).toBe(true);
      expect(JSON.stringify(await auditOf(installOrg.id, 'organization.create'))).not.toContain(created.initialPassword);
    }, 60_000);
  });

  it('answers auth.session with null, not an error, without a live session', async () => {
    const cookie = (token: string): Credentials => ({ kind: 'headers', headers: { cookie: `${SESSION_COOKIE}=${token}` } });
    const anonymous = await httpCall(h.server.url, 'auth.session', 'query', undefined, { kind: 'anonymous' });
    expect([anonymous.code, anonymous.data]).toEqual([null, null]);
    const forged = await httpCall(h.server.url, 'auth.session', 'query', undefined, cookie('ns_forged'));
    expect([forged.code, forged.data]).toEqual([null, null]);
    const signedIn = await httpCall(h.server.url, 'auth.session', 'query', undefined, cookie(tenantOwner.session));
    expect(signedIn.data).toMatchObject({ userId: tenantOwner.id, organizationId: tenantOrg.id, runsServer: false });
  });
});
