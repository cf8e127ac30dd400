import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent } from '@ninjait/server/testing/commands';
import { fakeInventory, startHarness, type Harness } from '@ninjait/server/testing';
import { totpAt } from '@ninjait/server/auth/totp';
import {
  authKind, buildInput, createOrgFixture, invoke, localAdminCredentials, login, MissingSampleError, PASSWORD, procedures,
  Sockets, unique, type Credentials, type OrgFixture, type ProcedureInfo,
} from './support.ts';

/**
 * Every mutation a person (or the local admin) makes lands in the audit log: each one found in
 * the router is performed successfully once, then the audit store must hold an entry for it,
 * by that user, written during the call. Missing ones are listed together.
 */

/** Mutations that are not a person's action, or deliberately unaudited, and why. */
const NOT_AUDITED: Record<string, string> = {
  'shell.resize': 'a window size, recorded in the session\'s recording (asciicast "r" events), not an action',
  'shell.local.resize': 'a window size, recorded in the session\'s recording (asciicast "r" events), not an action',
  'remote.files.uploadBegin': 'a step of an upload: the finished upload is audited with its SHA-256 (uploadFinish)',
  'remote.files.uploadChunk': 'a step of an upload: the finished upload is audited with its SHA-256 (uploadFinish)',
  'remote.files.uploadAbort': 'removes the partial file of an upload that never finished; nothing is left on the device',
  'remote.files.downloadChunk': 'a step of a download, audited with its SHA-256 when it begins (downloadBegin)',
  'remote.local': 'the local CLI\'s gateway: the op it carries audits itself as the person\'s procedure does (transfers, kills, service actions); reads are not audited',
  'updates.confirm': "the launcher's read-only check of its own device's version (device credentials, no person, no change)",
  'auth.requestPasswordReset': 'changes nothing by itself; the link it mails to a known email is audited (auth.password_reset_requested) after the answer, which must not wait for it',
};
/** Audited before the device is asked, so the entry exists even where this machine cannot do it (no systemd here). */
const AUDITED_BEFORE_ACTING = new Set(['remote.services.control']);
const notAudited = (path: string) => authKind(path) === 'agent' || path in NOT_AUDITED || path === 'agent.enroll';

/**
 * The code an authenticator app would show now for the owner's secret (`column`). The last
 * accepted step is forgotten first: each code is spent once, and this test spends several
 * within one 30-second step.
 */
async function currentCode(h: Harness, userId: string, column: 'totp_secret' | 'totp_pending_secret'): Promise<string> {
  await h.server.services.db.query('UPDATE users SET totp_last_step = NULL WHERE id = $1', [userId]);
  const { rows } = await h.server.services.db.query<{ secret: string }>(`SELECT ${column} AS secret FROM users WHERE id = $1`, [userId]);
  return totpAt(rows[0]!.secret, Date.now());
}

/** A device waiting for approval: a second enrollment of a known machine key without its secret. */
async function pendingDevice(org: OrgFixture, h: Harness): Promise<{ id: string }> {
  const machine = unique('claimed');
  const { token } = await h.admin.admin.tokens.create.mutate({ org: org.orgId, maxUses: 2 });
  await h.http().agent.enroll.mutate({ token, inventory: fakeInventory(machine) });
  return { id: (await h.http().agent.enroll.mutate({ token, inventory: fakeInventory(machine) })).deviceId };
}

/** Where the remote-access mutations read and write on this machine (the fixture's device runs here). */
let scratch = '';
let remoteDevice = '';
const children: ChildProcess[] = [];

const CONTRACT_PRICES = { perDevice: 4, perApiCall: 0.002, perGb: 0.05, currency: 'EUR' };
const monthFromNow = (months: number) => {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + months, 1)).toISOString().slice(0, 7);
};

/** A new client of the fixture's organization (the first of its server, so a provider). */
const newClient = async (org: OrgFixture, h: Harness) =>
  (await h.http({ authorization: `Bearer ${org.users.owner.session}` }).providers.createClient.mutate({ name: unique('grant-client') })).id;

/** Inputs the dictionary cannot guess: logging in needs a real account; a second cancel needs a second command; decisions need a pending device. */
const ownerOf = (org: OrgFixture, h: Harness) => h.http({ authorization: `Bearer ${org.users.owner.session}` });
const newScript = (org: OrgFixture, h: Harness) =>
  ownerOf(org, h).scripts.create.mutate({ name: unique('script'), language: 'shell', targetOs: ['linux', 'macos', 'windows'], body: 'echo audited' });
const newSchedule = async (org: OrgFixture, h: Harness) => ownerOf(org, h).scripts.schedules.create.mutate({
  scriptId: (await newScript(org, h)).id, name: unique('schedule'), cron: '0 3 * * *', timezone: 'UTC', target: { kind: 'devices', deviceIds: [org.device.id] },
});

const INPUTS: Record<string, (org: OrgFixture, h: Harness) => unknown> = {
  'devices.approve': pendingDevice,
  'devices.replace': pendingDevice,
  'devices.reject': pendingDevice,
  'auth.login': (org) => ({ email: org.users.owner.email, password: PASSWORD }),
  'auth.cookieLogin': (org) => ({ email: org.users.owner.email, password: PASSWORD }),
  // Deleting makes its own rule and channel, so the fixture's stay for the procedures that use them.
  'alertRules.delete': async (org, h) => ({
    id: (await h.http({ authorization: `Bearer ${org.users.owner.session}` }).alertRules.create.mutate({
      name: unique('rule'), condition: { kind: 'offline', forSec: 600 },
    })).id,
  }),
  'channels.delete': async (org, h) => ({
    id: (await h.http({ authorization: `Bearer ${org.users.owner.session}` }).channels.create.mutate({
      name: unique('channel'), kind: 'email', target: `${unique()}@audit.test`,
    })).channel.id,
  }),
  'webhooks.delete': async (org, h) => ({
    id: (await h.http({ authorization: `Bearer ${org.users.owner.session}` }).webhooks.create.mutate({
      name: unique('webhook'), url: 'http://192.0.2.10/audit', eventTypes: ['ticket.created'], enabled: false,
    })).subscription.id,
  }),
  // Scripts: each mutation gets a fresh script (or schedule) of the fixture's organization.
  'scripts.create': () => ({ name: unique('script'), language: 'shell', targetOs: ['linux', 'macos', 'windows'], body: 'echo audited' }),
  'scripts.update': async (org, h) => ({ id: (await newScript(org, h)).id, body: 'echo changed' }),
  'scripts.run': async (org, h) => ({ id: (await newScript(org, h)).id, target: { kind: 'devices', deviceIds: [org.device.id] } }),
  'scripts.schedules.create': async (org, h) => ({
    scriptId: (await newScript(org, h)).id, name: unique('schedule'), cron: '0 3 * * *', timezone: 'UTC', target: { kind: 'devices', deviceIds: [org.device.id] },
  }),
  'scripts.schedules.setEnabled': async (org, h) => ({ id: (await newSchedule(org, h)).id, enabled: false }),
  'scripts.schedules.delete': async (org, h) => ({ id: (await newSchedule(org, h)).id }),
  'admin.scripts.create': (org) => ({ org: org.orgId, name: unique('script'), language: 'shell', targetOs: ['linux', 'macos', 'windows'], body: 'echo audited' }),
  'admin.scripts.run': async (org, h) => ({ org: org.orgId, script: (await newScript(org, h)).id, as: org.users.owner.email, devices: [org.device.id] }),
  'admin.scripts.schedule': async (org, h) => ({
    org: org.orgId, script: (await newScript(org, h)).id, as: org.users.owner.email, devices: [org.device.id], name: unique('schedule'), cron: '0 3 * * *', timezone: 'UTC',
  }),
  // A rule's optional remediation script is left unset: the scripts' own mutations cover scripts.
  'alertRules.create': () => ({ name: unique('rule'), condition: { kind: 'offline', forSec: 600 } }),
  'alertRules.update': (org) => ({ id: org.alertRuleId, enabled: true }),
  'admin.alerting.rules.update': (org) => ({ org: org.orgId, rule: org.alertRuleId, enabled: true }),
  // The sweep's new asset takes the device first: the fixture's asset changes something else.
  'assets.update': (org) => ({ id: org.assetId, location: 'moved by the sweep' }),
  'admin.assets.update': (org) => ({ org: org.orgId, id: org.assetId, notes: 'changed by the operator' }),
  // The device can be one asset only: `assets.create` links it, the operator's asset is not linked.
  'admin.assets.create': (org) => ({ org: org.orgId, name: unique('asset'), kind: 'dock' }),
  // Their own assets: the fixture's stays for the procedures that use it.
  'assets.remove': async (org, h) => ({
    id: (await h.http({ authorization: `Bearer ${org.users.owner.session}` }).assets.create.mutate({ name: unique('asset'), kind: 'dock' })).id,
  }),
  'admin.assets.remove': async (org, h) => ({
    org: org.orgId, id: (await h.admin.admin.assets.create.mutate({ org: org.orgId, name: unique('asset'), kind: 'dock' })).id,
  }),
  // Terms that cannot overlap, whichever of the two runs first: next month for the organization's
  // admin, the month after for the operator.
  'contracts.set': () => ({ ...CONTRACT_PRICES, startMonth: monthFromNow(1), endMonth: monthFromNow(1) }),
  'admin.contracts.set': (org) => ({ org: org.orgId, contract: { ...CONTRACT_PRICES, startMonth: monthFromNow(2), endMonth: monthFromNow(2) } }),
  // Second factors: the codes come from the secret the server holds (the sweep's dictionary code is wrong on purpose).
  'twoFactor.confirm': async (org, h) => ({ code: await currentCode(h, org.users.owner.id, 'totp_pending_secret') }),
  'twoFactor.regenerateRecoveryCodes': async (org, h) => ({ code: await currentCode(h, org.users.owner.id, 'totp_secret') }),
  'twoFactor.disable': async (org, h) => ({ code: await currentCode(h, org.users.owner.id, 'totp_secret') }),
  'sso.save': () => ({
    issuer: 'https://idp.audit.test', clientId: 'audit-client', clientSecret: 'audit-secret', emailDomain: null, roleClaim: 'groups',
    roleRules: [{ value: 'audit-group', role: 'viewer' }], ssoOnly: false, countsAsTwoFactor: false,
  }),
  // A link as the mail would carry it, for the owner: the reset sets the same password again.
  'auth.resetPassword': async (org, h) => {
    const token = `pr_${randomBytes(32).toString('base64url')}`;
    await h.server.services.db.query("INSERT INTO password_resets (token_hash, user_id, expires_at) VALUES ($1, $2, NOW() + interval '5 minutes')",
      [createHash('sha256').update(token).digest('hex'), org.users.owner.id]);
    return { token, newPassword: PASSWORD };
  },
  // Grants need a client of the fixture's organization (the provider) and one of its people: the
  // viewer, as the sweep removes the target user (whose sessions nothing here relies on).
  'providers.grants.set': async (org, h) => ({ organizationId: await newClient(org, h), userId: org.users.viewer.id, role: 'technician' }),
  'providers.grants.revoke': async (org, h) => {
    const organizationId = await newClient(org, h);
    await h.http({ authorization: `Bearer ${org.users.owner.session}` }).providers.grants.set.mutate({ organizationId, userId: org.users.viewer.id, role: 'viewer' });
    return { organizationId, userId: org.users.viewer.id };
  },
  'admin.providers.grants.set': async (org, h) => ({ org: org.orgId, client: await newClient(org, h), email: org.users.viewer.email, role: 'viewer' }),
  'admin.providers.grants.revoke': async (org, h) => {
    const client = await newClient(org, h);
    const email = org.users.viewer.email;
    await h.admin.admin.providers.grants.set.mutate({ org: org.orgId, client, email, role: 'viewer' });
    return { org: org.orgId, client, email };
  },
  'auth.revokeSession': async (org, h) => {
    const other = await login(h, org.users.owner.email);
    const sessions = await h.http({ authorization: `Bearer ${other}` }).auth.sessions.query();
    return { session: sessions.find((session) => session.current)!.id };
  },
  'remote.files.downloadBegin': async () => {
    const path = join(scratch, `download-${unique()}.txt`);
    await writeFile(path, 'audited download');
    return { deviceId: remoteDevice, path };
  },
  'remote.files.mkdir': () => ({ deviceId: remoteDevice, path: join(scratch, `folder-${unique()}`) }),
  'remote.files.uploadFinish': async (org, h) => {
    const owner = h.http({ authorization: `Bearer ${org.users.owner.session}` });
    const transferId = randomUUID();
    const path = join(scratch, `upload-${unique()}.txt`);
    const body = Buffer.from('audited upload');
    await owner.remote.files.uploadBegin.mutate({ deviceId: remoteDevice, transferId, path, size: body.length, overwrite: false });
    await owner.remote.files.uploadChunk.mutate({ deviceId: remoteDevice, transferId, path, offset: 0, data: body.toString('base64') });
    return { deviceId: remoteDevice, transferId, path, size: body.length, sha256: createHash('sha256').update(body).digest('hex'), overwrite: false };
  },
  'remote.processes.kill': () => {
    const child = spawn('sleep', ['120'], { stdio: 'ignore' });
    children.push(child);
    return { deviceId: remoteDevice, pid: child.pid, signal: 'SIGTERM' };
  },
  // Its own session: the fixture's is what `shell.close` closes.
  'shell.local.close': async (org, h) => ({
    sessionId: (await h.http({ authorization: `Bearer ${org.users.owner.session}` }).shell.open.mutate({ deviceId: org.device.id })).sessionId,
  }),
  // A real switch, into a client of the fixture's organization (the first of its server, so a provider).
  'auth.switchOrganization': async (org, h) => ({
    organizationId: (await h.http({ authorization: `Bearer ${org.users.owner.session}` }).providers.createClient.mutate({ name: unique('client') })).id,
  }),
  // A job on the fixture's device by id: the fixture's group is "devices with its tag", and another
  // mutation of this sweep may have changed the device's tags before this one runs.
  'jobs.create': async (org) => ({ script: 'echo audited', deviceIds: [org.device.id] }),
  // Deleting a fixture's site, tag, field or group would take it from the other mutations: delete fresh ones.
  'fleet.sites.delete': async (org, h) => ({ id: (await h.http({ authorization: `Bearer ${org.users.owner.session}` }).fleet.sites.create.mutate({ name: unique('gone') })).id }),
  'fleet.tags.delete': async (org, h) => ({ id: (await h.http({ authorization: `Bearer ${org.users.owner.session}` }).fleet.tags.create.mutate({ name: unique('gone') })).id }),
  'fleet.fields.delete': async (org, h) => ({ id: (await h.http({ authorization: `Bearer ${org.users.owner.session}` }).fleet.fields.create.mutate({ name: unique('gone'), type: 'text' })).id }),
  'fleet.groups.delete': async (org, h) => ({
    id: (await h.http({ authorization: `Bearer ${org.users.owner.session}` }).fleet.groups.create.mutate({ name: unique('gone'), filter: { conditions: [] } })).id,
  }),
  'commands.local.cancel': async (org, h) => ({
    id: (await h.http({ authorization: `Bearer ${org.users.owner.session}` }).commands.run.mutate({ deviceId: org.device.id, script: 'echo again' })).id,
  }),
};

/**
 * Run after the others: they end the resource or the session the others use (the device last of
 * all); removing the target person comes after assigning tickets to them.
 */
const rank = (path: string) => (/\.decommission$/.test(path) ? 2 : /\.(close|cancel|revoke|logout|changePassword|resetPassword|remove|switchOrganization)$/.test(path) ? 1 : 0);

describe('audit coverage', () => {
  let h: Harness;
  let sockets: Sockets;
  let x: OrgFixture;
  let localAdmin: Credentials;
  let agent: Awaited<ReturnType<typeof startAgent>> | undefined;

  beforeAll(async () => {
    h = await startHarness({ relational: 'pglite', cache: 'memory', env: { RATE_LIMIT_MAX: '1000000' } });
    sockets = new Sockets(h.server.url);
    x = await createOrgFixture(h, 'Audit');
    localAdmin = await localAdminCredentials(h);
    scratch = await mkdtemp(join(tmpdir(), 'ninjait-audit-'));
    // A second device of the organization, connected, so remote-access mutations are performed for
    // real without the agent finishing the fixture's command or shell before they are cancelled.
    const { token } = await h.admin.admin.tokens.create.mutate({ org: x.orgId });
    const enrolled = await h.http().agent.enroll.mutate({ token, inventory: fakeInventory(unique('remote')) });
    remoteDevice = enrolled.deviceId;
    agent = await startAgent(h.server.url, { deviceId: enrolled.deviceId, deviceSecret: enrolled.deviceSecret });
  }, 120_000);
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await agent?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
    await sockets?.closeAll();
    await h?.stop();
  });

  it('records every mutation with who did it', async () => {
    const mutations = procedures
      .filter((info) => info.type === 'mutation' && !notAudited(info.path))
      .sort((a, b) => rank(a.path) - rank(b.path));
    expect(mutations.length).toBeGreaterThan(15);
    const unaudited: string[] = [];
    const notPerformed: string[] = [];
    for (const info of mutations) {
      const kind = authKind(info.path);
      const credentials: Credentials = kind === 'localAdmin' ? localAdmin : kind === 'public' ? { kind: 'anonymous' } : { kind: 'session', token: x.users.owner.session };
      let input: unknown;
      try {
        input = (await INPUTS[info.path]?.(x, h)) ?? buildInput(info as ProcedureInfo, x);
      } catch (error) {
        if (!(error instanceof MissingSampleError)) throw error;
        notPerformed.push(error.message);
        continue;
      }
      const since = new Date(Date.now() - 1);
      const outcome = await invoke(h, sockets, info, input, credentials);
      if (!outcome.ok && !AUDITED_BEFORE_ACTING.has(info.path)) {
        notPerformed.push(`${info.path}: ${outcome.code} ${outcome.message.slice(0, 160)} (fix its input in the dictionary)`);
        continue;
      }
      const expectedUser = kind === 'localAdmin' ? null : x.users.owner.id;
      // The audit store is the embedded document store here: its table spans organizations, which the
      // local admin's calls need (admin.organizations.create audits in the organization it created).
      const { rows } = await h.server.services.db.query<{ action: string; user_id: string | null }>(
        'SELECT action, user_id FROM audit_log WHERE ts >= $1', [since]);
      if (!rows.some((row) => row.user_id === expectedUser)) unaudited.push(`${info.path} (as ${kind === 'localAdmin' ? 'local admin' : 'owner'})`);
      if (/logout|changePassword|auth\.resetPassword|switchOrganization/.test(info.path)) x.users.owner.session = await login(h, x.users.owner.email);
    }
    expect(notPerformed, 'mutations the test could not perform').toEqual([]);
    expect(unaudited, 'mutations without an audit entry: add audit(...) (server/src/features/audit) after the change').toEqual([]);
  }, 120_000);

  it('is readable through audit.list by the organization, newest first', async () => {
    const entries = await h.http({ authorization: `Bearer ${x.users.owner.session}` }).audit.list.query({ userId: x.users.owner.id, limit: 1_000 });
    expect(entries.length).toBeGreaterThan(10);
    expect(entries.every((entry) => entry.organizationId === x.orgId)).toBe(true);
    const times = entries.map((entry) => new Date(entry.timestamp).getTime());
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });
});
