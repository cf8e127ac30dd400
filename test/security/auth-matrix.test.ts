import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY_SCOPES, ROLES as ROLE_ORDER, type ApiKeyScope, type Role } from '@ninjait/shared';
import { LOCAL_ADMIN_HEADER, readLocalAdminToken } from '@ninjait/server';
import { createContext } from '@ninjait/server/api/context';
import { createCallerFactory } from '@ninjait/server/api/trpc';
import { keyRoleFor } from '@ninjait/server/api-keys';
import { fakeInventory, startHarness, type Harness } from '@ninjait/server/testing';
import {
  authKind, buildInput, createOrgFixture, invoke, localAdminCredentials, login, MissingSampleError, PUBLIC_PROCEDURES, procedures,
  ROLES, Sockets, type Credentials, type OrgFixture, type ProcedureInfo,
} from './support.ts';
import { eachLimited } from '../support/concurrency.ts';

/** Calls in flight at once: enough to keep the server busy, few enough that no connection is refused for load. */
const MATRIX_CONCURRENCY = 32;

/**
 * Who may call what, for every procedure of the router:
 * - without credentials, everything but PUBLIC_PROCEDURES (support.ts) is UNAUTHORIZED;
 * - each kind of credential (session, device, local admin) opens only its own procedures;
 * - every mutation has a minimum role in MIN_ROLE below, and each role under it gets FORBIDDEN.
 */

/**
 * The minimum role of every procedure a person calls. Every mutation must be listed (a new one
 * fails the suite until someone decides); queries and subscriptions listed here are checked too.
 */
const MIN_ROLE: Record<string, Role> = {
  // Mutations.
  'auth.logout': 'viewer',
  'users.create': 'admin',
  'users.changePassword': 'viewer',
  'users.setRole': 'admin',
  'users.resetPassword': 'admin',
  'users.remove': 'admin',
  // Only the owners of the organization that runs the server (the first one) create organizations;
  // the fixture's organization is the first of its server (people.test.ts covers the others).
  'organizations.create': 'owner',
  'tokens.create': 'admin',
  'tokens.revoke': 'admin',
  'devices.decommission': 'admin',
  // Deciding on a device that claims a known machine's key: who may let a machine into the fleet.
  'devices.approve': 'admin',
  'devices.replace': 'admin',
  'devices.reject': 'admin',
  'tickets.create': 'technician',
  'tickets.update': 'technician',
  'tickets.assign': 'technician',
  'tickets.comment': 'technician',
  'tickets.close': 'technician',
  'commands.run': 'technician',
  'commands.cancel': 'technician',
  'shell.open': 'technician',
  'shell.input': 'technician',
  'shell.close': 'technician',
  'shell.resize': 'technician',
  'remote.files.mkdir': 'technician',
  'remote.files.uploadBegin': 'technician',
  'remote.files.uploadChunk': 'technician',
  'remote.files.uploadFinish': 'technician',
  'remote.files.uploadAbort': 'technician',
  'remote.files.downloadBegin': 'technician',
  'remote.files.downloadChunk': 'technician',
  'remote.processes.kill': 'technician',
  'remote.services.control': 'technician',
  'jobs.create': 'technician',
  'jobs.cancel': 'technician',
  'updates.installLinks': 'admin',
  // Alerts: technicians act on alerts; admins manage rules, channels and maintenance windows.
  'alerts.acknowledge': 'technician',
  'alerts.resolve': 'technician',
  'alertRules.create': 'admin',
  'alertRules.update': 'admin',
  'alertRules.delete': 'admin',
  'alertRules.setExclusion': 'admin',
  'channels.create': 'admin',
  'channels.delete': 'admin',
  'channels.test': 'admin',
  'maintenance.create': 'admin',
  'maintenance.delete': 'admin',
  // Event webhooks: admins manage, resend and test; technicians read them and their delivery log.
  'webhooks.create': 'admin',
  'webhooks.update': 'admin',
  'webhooks.delete': 'admin',
  'webhooks.test': 'admin',
  'webhooks.resend': 'admin',
  // Everyone may make keys for themselves (a key never exceeds its maker); admins list and revoke any of the organization's.
  'apiKeys.create': 'viewer',
  'apiKeys.revoke': 'viewer',
  'auth.revokeSession': 'viewer',
  'twoFactor.begin': 'viewer',
  'twoFactor.confirm': 'viewer',
  'twoFactor.regenerateRecoveryCodes': 'viewer',
  'twoFactor.disable': 'viewer',
  // Requiring a second factor of everyone in the organization.
  'twoFactor.setRequired': 'admin',
  // Single sign-on: the organization's provider and who it may let in, with which role.
  'sso.save': 'admin',
  'sso.remove': 'admin',
  'sso.settings': 'admin',
  'patches.setPolicy': 'admin',
  // Scoped patch policies: admins set them, as they set the organization's.
  'patches.policies.create': 'admin',
  'patches.policies.update': 'admin',
  'patches.policies.delete': 'admin',
  'patches.approve': 'technician',
  'patches.revoke': 'technician',
  'patches.deploy': 'technician',
  'patches.cancel': 'technician',
  // Contracts are money: admins. Assets: admins write, technicians read. Settings: admins the organization's, technicians a device's.
  'contracts.set': 'admin',
  'assets.create': 'admin',
  'assets.update': 'admin',
  'assets.remove': 'admin',
  'settings.setOrganization': 'admin',
  'settings.setDevice': 'technician',
  // Providers: the organization switcher is anyone's (it only reaches where their memberships do);
  // a provider's admins create its clients (the fixture's organization runs the server, so it is a provider).
  'auth.switchOrganization': 'viewer',
  'providers.createClient': 'admin',
  'providers.clients': 'admin',
  'providers.fleet': 'viewer',
  // Grants of the provider's people into its clients: its admins decide, as they do about people.
  'providers.grants.set': 'admin',
  'providers.grants.revoke': 'admin',
  'providers.grants.list': 'admin',
  'auth.organizations': 'viewer',
  // The fleet's structure: admins change it (sites, tags, fields, groups, a device's place in them).
  'fleet.sites.create': 'admin',
  'fleet.sites.update': 'admin',
  'fleet.sites.delete': 'admin',
  'fleet.tags.create': 'admin',
  'fleet.tags.rename': 'admin',
  'fleet.tags.delete': 'admin',
  'fleet.tags.assign': 'admin',
  'fleet.fields.create': 'admin',
  'fleet.fields.update': 'admin',
  'fleet.fields.delete': 'admin',
  'scripts.create': 'admin',
  'scripts.update': 'admin',
  'scripts.run': 'technician',
  'scripts.schedules.create': 'technician',
  'scripts.schedules.setEnabled': 'technician',
  'scripts.schedules.delete': 'technician',
  'scripts.list': 'viewer',
  'scripts.get': 'viewer',
  'scripts.runs.list': 'viewer',
  'scripts.runs.get': 'viewer',
  'scripts.schedules.list': 'viewer',
  'fleet.groups.create': 'admin',
  'fleet.groups.update': 'admin',
  'fleet.groups.delete': 'admin',
  'fleet.device.setSite': 'admin',
  'fleet.device.setTags': 'admin',
  'fleet.device.setFields': 'admin',
  // Queries and subscriptions whose role is above viewer, and a few viewer ones as controls.
  'fleet.sites.list': 'technician',
  'fleet.tags.list': 'technician',
  'fleet.fields.list': 'technician',
  'fleet.groups.list': 'technician',
  'fleet.groups.members': 'technician',
  'fleet.device.get': 'technician',
  'users.list': 'admin',
  'organizations.list': 'owner',
  'system.status': 'admin',
  'tokens.list': 'admin',
  'analytics.monthlyInvoice': 'admin',
  'updates.releases': 'admin',
  'logs.recentErrors': 'admin',
  'audit.list': 'admin',
  'quarantine.list': 'admin',
  'channels.list': 'admin',
  'channels.deliveries': 'admin',
  'webhooks.list': 'technician',
  'webhooks.deliveries': 'technician',
  'alerts.list': 'viewer',
  'alertRules.list': 'viewer',
  'maintenance.list': 'viewer',
  'shell.output': 'technician',
  'shell.recordings': 'viewer',
  'shell.recording': 'viewer',
  'remote.files.list': 'viewer',
  'remote.processes.list': 'viewer',
  'remote.services.list': 'viewer',
  'remote.logs.query': 'viewer',
  'devices.list': 'viewer',
  'tickets.list': 'viewer',
  'commands.list': 'viewer',
  'patches.compliance': 'viewer',
  'software.search': 'viewer',
  'contracts.show': 'admin',
  'assets.list': 'technician',
  'assets.get': 'technician',
  'assets.forDevice': 'technician',
  'settings.organization': 'viewer',
  'settings.device': 'viewer',
};

/** Procedures that end the caller's own session when they succeed: the matrix logs in again after them. */
const ENDS_OWN_SESSION = new Set(['auth.logout', 'users.changePassword']);

/**
 * A sweep calls every procedure several times over; on a machine loaded by the rest of the suite
 * one took over 60 s (it is not a timing test: only the answers are checked).
 */
const SWEEP_TIMEOUT_MS = 180_000;

const ALLOWED_FOR_OWN_CREDENTIAL = (code: string | null) => code !== 'UNAUTHORIZED' && code !== 'FORBIDDEN';

describe('authentication and role matrix', () => {
  let h: Harness;
  let sockets: Sockets;
  let x: OrgFixture;
  let localAdmin: Credentials;
  const inputOf = (info: ProcedureInfo) => {
    try {
      return buildInput(info, x);
    } catch (error) {
      if (error instanceof MissingSampleError) return undefined;
      throw error;
    }
  };

  beforeAll(async () => {
    // Sockets with missing or forged credentials never authenticate, so the server closes them
    // WS_AUTH_TIMEOUT_MS (5 s) after they open (ws-auth-deadline.test.ts proves it). A sweep on a
    // loaded machine outlasts that: a subscription sent as its socket closed came back as a
    // transport error, not UNAUTHORIZED, and failed the sweep. Here the deadline is out of the way.
    h = await startHarness({ relational: 'pglite', cache: 'memory', env: { RATE_LIMIT_MAX: '1000000', WS_AUTH_TIMEOUT_MS: '600000' } });
    sockets = new Sockets(h.server.url);
    x = await createOrgFixture(h, 'Auth');
    localAdmin = await localAdminCredentials(h);
  }, 120_000);
  afterAll(async () => {
    await sockets?.closeAll();
    await h?.stop();
  });

  /** Calls every procedure of `kinds` with `credentials`; returns the paths whose answer fails `expectation`. */
  async function sweep(kinds: string[], credentials: Credentials, expectation: (code: string | null) => boolean, exclude: string[] = []) {
    const targets = procedures.filter((info) => kinds.includes(authKind(info.path)) && !exclude.includes(info.path));
    const outcomes = await eachLimited(targets, MATRIX_CONCURRENCY, (info) => invoke(h, sockets, info, inputOf(info), credentials));
    return targets.flatMap((info, i) => (expectation(outcomes[i]!.code) ? [] : [`${info.path}: ${outcomes[i]!.code ?? 'success'} ${outcomes[i]!.message.slice(0, 160)}`]));
  }
  const refused = (code: string | null) => code === 'UNAUTHORIZED';

  it('lists the public procedures explicitly, and they exist', () => {
    expect(Object.keys(PUBLIC_PROCEDURES).filter((path) => !procedures.some((p) => p.path === path))).toEqual([]);
    expect(procedures.filter((p) => authKind(p.path) === 'user').length).toBeGreaterThan(20);
  });

  it('refuses every non-public procedure without credentials, or with forged ones', async () => {
    const kinds = ['user', 'agent', 'localAdmin'];
    // As one text, not an array: the runner's summary of a failure shortens arrays to "[ …(2) ]",
    // and which procedures answered what is the whole point of the message.
    const notRefused = async (credentials: Credentials) => (await sweep(kinds, credentials, refused)).join('\n');
    expect(await notRefused({ kind: 'anonymous' })).toBe('');
    expect(await notRefused({ kind: 'headers', headers: { authorization: 'Bearer ns_forged', cookie: 'ninjait_session=ns_forged' } })).toBe('');
    expect(await notRefused({ kind: 'session', token: `nk_${'A'.repeat(43)}` })).toBe('');
    expect(await notRefused({ kind: 'session', token: `${x.apiKey.key}x` })).toBe('');
    expect(await notRefused({ kind: 'session', token: `${x.users.owner.session}x` })).toBe('');
  }, SWEEP_TIMEOUT_MS);

  it('opens agent procedures to device credentials only', async () => {
    expect(await sweep(['agent'], { kind: 'session', token: x.users.owner.session }, refused)).toEqual([]);
    expect(await sweep(['agent'], localAdmin, refused)).toEqual([]);
    expect(await sweep(['agent'], { kind: 'device', deviceId: x.device.id, deviceSecret: `nds_${'A'.repeat(43)}` }, refused)).toEqual([]);
    expect(await sweep(['agent'], { kind: 'device', deviceId: '00000000-0000-4000-8000-000000000000', deviceSecret: x.device.secret }, refused)).toEqual([]);
    // A device of its own, so rotating its secret here cannot disturb other cases.
    const { token } = await h.admin.admin.tokens.create.mutate({ org: x.orgId });
    const own = await h.http().agent.enroll.mutate({ token, inventory: fakeInventory('auth-matrix-device') });
    expect(await sweep(['agent'], { kind: 'device', deviceId: own.deviceId, deviceSecret: own.deviceSecret }, ALLOWED_FOR_OWN_CREDENTIAL)).toEqual([]);
  }, SWEEP_TIMEOUT_MS);

  it("opens people's procedures to sessions only, not to device or local admin credentials", async () => {
    expect(await sweep(['user', 'localAdmin'], { kind: 'device', deviceId: x.device.id, deviceSecret: x.device.secret }, refused)).toEqual([]);
    expect(await sweep(['user'], localAdmin, refused)).toEqual([]);
    expect(await sweep(['localAdmin'], { kind: 'session', token: x.users.owner.session }, refused)).toEqual([]);
    expect(await sweep(['localAdmin'], localAdmin, ALLOWED_FOR_OWN_CREDENTIAL)).toEqual([]);
    // Last: the owner's own calls may end their session (logout).
    expect(await sweep(['user'], { kind: 'session', token: x.users.owner.session }, ALLOWED_FOR_OWN_CREDENTIAL, [...ENDS_OWN_SESSION])).toEqual([]);
  }, SWEEP_TIMEOUT_MS);

  it('ignores the local admin credential from a non-loopback address, whatever the forwarding headers say', async () => {
    const token = (await readLocalAdminToken(h.dataDir))!;
    const caller = createCallerFactory(h.server.router);
    for (const remoteAddress of ['203.0.113.7', '::ffff:10.1.2.3', '2001:db8::1']) {
      const req = { socket: { remoteAddress }, headers: { [LOCAL_ADMIN_HEADER]: token, 'x-forwarded-for': '127.0.0.1', 'x-real-ip': '127.0.0.1' } } as unknown as IncomingMessage;
      const res = { setHeader() {}, appendHeader() {} } as unknown as ServerResponse;
      const ctx = await createContext(h.server.gate, { req, res, info: { connectionParams: null } });
      expect(ctx.localAdminToken).toBeNull();
      await expect(caller(ctx).admin.organizations.list()).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    }
    // The control: the same request from loopback is the local admin.
    const req = { socket: { remoteAddress: '127.0.0.1' }, headers: { [LOCAL_ADMIN_HEADER]: token } } as unknown as IncomingMessage;
    const ctx = await createContext(h.server.gate, { req, res: { setHeader() {}, appendHeader() {} } as unknown as ServerResponse, info: { connectionParams: null } });
    expect(Array.isArray(await caller(ctx).admin.organizations.list())).toBe(true);
  });

  it('has a minimum role for every mutation a person can call', () => {
    const mutations = procedures.filter((p) => p.type === 'mutation' && authKind(p.path) === 'user').map((p) => p.path);
    expect(mutations.filter((path) => !(path in MIN_ROLE)), 'add these mutations to MIN_ROLE in test/security/auth-matrix.test.ts').toEqual([]);
  });

  it('enforces the minimum role of each listed procedure for every role', async () => {
    const failures: string[] = [];
    const listed = Object.entries(MIN_ROLE).flatMap(([path, minimum]) => {
      const info = procedures.find((p) => p.path === path);
      return info ? [{ info, minimum }] : [];
    });
    const missing = Object.keys(MIN_ROLE).filter((path) => !listed.some((entry) => entry.info.path === path));
    if (missing.length > 0) console.warn(`MIN_ROLE lists procedures the router does not have (yet): ${missing.join(', ')}`);
    const check = async ({ info, minimum }: (typeof listed)[number], role: Role) => {
      const outcome = await invoke(h, sockets, info, inputOf(info), { kind: 'session', token: x.users[role].session });
      const allowed = ROLES.indexOf(role) >= ROLES.indexOf(minimum);
      if (!allowed && outcome.code !== 'FORBIDDEN') failures.push(`${info.path} as ${role}: expected FORBIDDEN (minimum ${minimum}), got ${outcome.code ?? 'success'}`);
      if (allowed && !ALLOWED_FOR_OWN_CREDENTIAL(outcome.code)) failures.push(`${info.path} as ${role}: refused (${outcome.code} ${outcome.message.slice(0, 120)}) though ${role} >= ${minimum}`);
    };
    // Independent cases at once; the ones that end the caller's session one by one, logging in again after each.
    const checks = listed.filter((entry) => !ENDS_OWN_SESSION.has(entry.info.path)).flatMap((entry) => ROLES.map((role) => [entry, role] as const));
    await eachLimited(checks, MATRIX_CONCURRENCY, ([entry, role]) => check(entry, role));
    for (const entry of listed.filter((e) => ENDS_OWN_SESSION.has(e.info.path))) {
      for (const role of ROLES) {
        await check(entry, role);
        x.users[role].session = await login(h, x.users[role].email);
      }
    }
    expect(failures).toEqual([]);
  }, 90_000);
  /**
   * Every procedure a person calls, with a key of each single scope made by each role: what the
   * key may do is its maker's role, capped by the scope (features/api-keys/scopes.ts), and only
   * where the scope reaches. Procedures outside the scope are FORBIDDEN, so are those above the
   * capped role; agent and local-admin procedures refuse every key.
   */
  it('bounds every procedure an API key calls by its scopes and its creator\'s role', async () => {
    const failures: string[] = [];
    const weakest = (a: Role, b: Role) => (ROLE_ORDER.indexOf(a) <= ROLE_ORDER.indexOf(b) ? a : b);
    const makers: Role[] = ['technician', 'owner'];
    const keys = await Promise.all(makers.flatMap((maker) => API_KEY_SCOPES.map(async (scope) => {
      const client = h.http({ authorization: `Bearer ${x.users[maker].session}` });
      return { maker, scope, key: (await client.apiKeys.create.mutate({ name: `matrix ${maker} ${scope}`, scopes: [scope] })).key };
    })));
    const people = procedures.filter((info) => authKind(info.path) === 'user' && !ENDS_OWN_SESSION.has(info.path) && !/\.(decommission|remove|revoke|reject|replace)$/.test(info.path));
    const check = async (info: ProcedureInfo, entry: { maker: Role; scope: ApiKeyScope; key: string }) => {
      const outcome = await invoke(h, sockets, info, inputOf(info), { kind: 'session', token: entry.key });
      const capped = keyRoleFor([entry.scope], entry.maker, info.path, info.type);
      const minimum = MIN_ROLE[info.path] ?? 'viewer';
      const allowed = capped !== null && weakest(capped, minimum) === minimum;
      const label = `${info.path} with a ${entry.scope} key of a ${entry.maker}`;
      if (!allowed && outcome.code !== 'FORBIDDEN') failures.push(`${label}: expected FORBIDDEN, got ${outcome.code ?? 'success'}`);
      if (allowed && !ALLOWED_FOR_OWN_CREDENTIAL(outcome.code)) failures.push(`${label}: refused (${outcome.code} ${outcome.message.slice(0, 120)})`);
    };
    const calls = keys.flatMap((entry) => people.map((info) => [info, entry] as const));
    await eachLimited(calls, MATRIX_CONCURRENCY, ([info, entry]) => check(info, entry));
    // Keys open nothing but people's procedures.
    for (const entry of keys.filter((k) => k.scope === 'admin' && k.maker === 'owner')) {
      expect(await sweep(['agent', 'localAdmin'], { kind: 'session', token: entry.key }, refused)).toEqual([]);
    }
    expect(failures).toEqual([]);
  }, 120_000);
});
