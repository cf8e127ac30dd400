import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../../server/src/testing/harness.ts';
import {
  authKind, buildInput, createOrgFixture, invoke, localAdminCredentials, login, MissingSampleError, PASSWORD, procedures,
  Sockets, type Credentials, type OrgFixture, type ProcedureInfo,
} from './support.ts';

/**
 * Every mutation a person (or the local admin) makes lands in the audit log: each one found in
 * the router is performed successfully once, then the audit store must hold an entry for it,
 * by that user, written during the call. Missing ones are listed together.
 */

/** Mutations that are not a person's action, or deliberately unaudited, and why. */
const NOT_AUDITED: Record<string, string> = {
  'updates.confirm': "the launcher's read-only check of its own device's version (device credentials, no person, no change)",
  'shell.input': "keystrokes of an audited session (shell.open/shell.close); recording them would put typed passwords in the audit log",
};
const notAudited = (path: string) => authKind(path) === 'agent' || path in NOT_AUDITED || path === 'agent.enroll';

/** Inputs the dictionary cannot guess: logging in needs a real account; a second cancel needs a second command. */
const INPUTS: Record<string, (org: OrgFixture, h: Harness) => unknown> = {
  'auth.login': (org) => ({ email: org.users.owner.email, password: PASSWORD }),
  'commands.local.cancel': async (org, h) => ({
    id: (await h.http({ authorization: `Bearer ${org.users.owner.session}` }).commands.run.mutate({ deviceId: org.device.id, script: 'echo again' })).id,
  }),
};

/** Run after the others: they end the resource or the session the others use (the device last of all). */
const rank = (path: string) => (/\.decommission$/.test(path) ? 2 : /\.(close|cancel|revoke|logout|changePassword)$/.test(path) ? 1 : 0);

describe('audit coverage', () => {
  let h: Harness;
  let sockets: Sockets;
  let x: OrgFixture;
  let localAdmin: Credentials;

  beforeAll(async () => {
    h = await startHarness({ relational: 'pglite', cache: 'memory', env: { RATE_LIMIT_MAX: '1000000' } });
    sockets = new Sockets(h.server.url);
    x = await createOrgFixture(h, 'Audit');
    localAdmin = await localAdminCredentials(h);
  }, 120_000);
  afterAll(async () => {
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
      if (!outcome.ok) {
        notPerformed.push(`${info.path}: ${outcome.code} ${outcome.message.slice(0, 160)} (fix its input in the dictionary)`);
        continue;
      }
      const expectedUser = kind === 'localAdmin' ? null : x.users.owner.id;
      // The audit store is the embedded document store here: its table spans organizations, which the
      // local admin's calls need (admin.organizations.create audits in the organization it created).
      const { rows } = await h.server.services.db.query<{ action: string; user_id: string | null }>(
        'SELECT action, user_id FROM audit_log WHERE ts >= $1', [since]);
      if (!rows.some((row) => row.user_id === expectedUser)) unaudited.push(`${info.path} (as ${kind === 'localAdmin' ? 'local admin' : 'owner'})`);
      if (/logout|changePassword/.test(info.path)) x.users.owner.session = await login(h, x.users.owner.email);
    }
    expect(notPerformed, 'mutations the test could not perform').toEqual([]);
    expect(unaudited, 'mutations without an audit entry: add audit(...) (server/src/audit) after the change').toEqual([]);
  }, 120_000);

  it('is readable through audit.list by the organization, newest first', async () => {
    const entries = await h.http({ authorization: `Bearer ${x.users.owner.session}` }).audit.list.query({ userId: x.users.owner.id, limit: 1_000 });
    expect(entries.length).toBeGreaterThan(10);
    expect(entries.every((entry) => entry.organizationId === x.orgId)).toBe(true);
    const times = entries.map((entry) => new Date(entry.timestamp).getTime());
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });
});
