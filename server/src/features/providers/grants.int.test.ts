import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { codeOf, relationalEngines, startHarness, type Harness } from '../../../test-support/index.ts';
import { clientCommand } from '../../cli/commands/client.ts';
import { grantCommand } from '../../cli/commands/grant.ts';
import { orgCommand } from '../../cli/commands/org.ts';

const PASSWORD = 'correct horse battery staple';
const commands = { org: orgCommand, client: clientCommand, grant: grantCommand };

/** Runs a `ninjait` command in this process (a spawned CLI costs seconds of tsx start-up each) and returns what it printed. */
async function runCli(name: keyof typeof commands, args: string[]): Promise<string> {
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    await commands[name].run(args);
  } finally {
    spy.mockRestore();
  }
  return out;
}

/**
 * Explicit grants of a provider's people into its clients, on a real server: who may grant, that a
 * revoked grant ends the sessions it gave at once, and that nothing crosses to another provider.
 */
describe.each(relationalEngines().map((relational) => ({ relational, cache: relational === 'postgres' && process.env.REDIS_URL ? 'redis' as const : 'memory' as const })))(
  'grants on $relational + $cache',
  ({ relational, cache }) => {
    let h: Harness;
    const org = { provider: '', a: '', b: '', second: '', c: '' };
    const ids: Record<string, string> = {};
    const email = (who: string) => `${who}@grants-${relational}.test`;
    const login = async (who: string) => (await h.http().auth.login.mutate({ email: email(who), password: PASSWORD })).sessionToken;
    const as = (token: string) => h.http({ authorization: `Bearer ${token}` });
    const addPerson = async (orgId: string, who: string, role: 'owner' | 'admin' | 'technician' | 'viewer') => {
      ids[who] = (await h.admin.admin.users.create.mutate({ org: orgId, email: email(who), password: PASSWORD, role })).id;
    };
    const switchTo = async (who: string, organizationId: string) => (await as(await login(who)).auth.switchOrganization.mutate({ organizationId }));

    beforeAll(async () => {
      h = await startHarness({ relational, cache, env: { RATE_LIMIT_MAX: '100000' } });
      org.provider = (await h.admin.admin.organizations.create.mutate({ name: 'Provider' })).id;
      org.second = (await h.admin.admin.organizations.create.mutate({ name: 'Second MSP', provider: true })).id;
      await addPerson(org.provider, 'padmin', 'admin');
      await addPerson(org.provider, 'ptech', 'technician');
      await addPerson(org.provider, 'pviewer', 'viewer');
      await addPerson(org.second, 'sadmin', 'admin');
      await addPerson(org.second, 'stech', 'technician');
      org.a = (await h.admin.admin.providers.clients.create.mutate({ org: 'Provider', name: 'Client A' })).id;
      org.b = (await h.admin.admin.providers.clients.create.mutate({ org: org.provider, name: 'Client B' })).id;
      org.c = (await as(await login('sadmin')).providers.createClient.mutate({ name: 'Client C' })).id;
      await addPerson(org.a, 'aowner', 'owner');
    }, 120_000);
    afterAll(async () => {
      await h?.stop();
    });

    it('gives a provider viewer a stronger role in one client, listed and audited in both organizations', async () => {
      const padmin = as(await login('padmin'));
      const granted = await padmin.providers.grants.set.mutate({ organizationId: org.a, userId: ids.pviewer!, role: 'technician' });
      expect(granted).toMatchObject({ clientId: org.a, role: 'technician', from: null });
      const listed = await padmin.providers.grants.list.query({});
      expect(listed.map(({ email: e, clientName, role }) => ({ e, clientName, role }))).toEqual([{ e: email('pviewer'), clientName: 'Client A', role: 'technician' }]);
      // A client's own people are not grants.
      expect(listed.some((grant) => grant.email === email('aowner'))).toBe(false);
      const organizations = await as(await login('pviewer')).auth.organizations.query();
      expect(organizations.find((entry) => entry.organizationId === org.a)).toMatchObject({ role: 'technician', via: 'member' });
      expect(organizations.find((entry) => entry.organizationId === org.b)).toMatchObject({ role: 'viewer', via: 'provider' });
      const { rows } = await h.server.services.db.query<{ organization_id: string }>(
        `SELECT organization_id FROM audit_log WHERE action = 'membership.grant' AND resource_id = $1 ORDER BY organization_id`, [ids.pviewer]);
      expect(rows.map((row) => row.organization_id).sort()).toEqual([org.provider, org.a].sort());
    });

    it('ends the session a grant opened the moment it is revoked; what stays is the provider role', async () => {
      await h.admin.admin.providers.grants.set.mutate({ org: 'Provider', client: 'Client B', email: email('pviewer'), role: 'admin' });
      const inB = as((await switchTo('pviewer', org.b)).sessionToken!);
      expect(await inB.auth.me.query()).toMatchObject({ organizationId: org.b, role: 'admin' });
      const home = as(await login('pviewer'));
      await as(await login('padmin')).providers.grants.revoke.mutate({ organizationId: org.b, userId: ids.pviewer! });
      expect(await codeOf(inB.auth.me.query())).toBe('UNAUTHORIZED');
      expect(await codeOf(home.auth.me.query())).toBe('UNAUTHORIZED');
      const again = await switchTo('pviewer', org.b);
      expect(again.role).toBe('viewer');
      expect(await codeOf(as(again.sessionToken!).users.create.mutate({ email: email('sneaky'), role: 'viewer' }))).toBe('FORBIDDEN');
      const { rows } = await h.server.services.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM audit_log WHERE action = 'membership.revoke' AND organization_id IN ($1, $2)`, [org.provider, org.b]);
      expect(rows[0]!.n).toBe(2);
      expect(await codeOf(as(await login('padmin')).providers.grants.revoke.mutate({ organizationId: org.b, userId: ids.pviewer! }))).toBe('NOT_FOUND');
    });

    it('never reaches another provider\'s clients or people', async () => {
      const padmin = as(await login('padmin'));
      expect(await codeOf(padmin.providers.grants.set.mutate({ organizationId: org.c, userId: ids.ptech!, role: 'technician' }))).toBe('NOT_FOUND');
      expect(await codeOf(padmin.providers.grants.set.mutate({ organizationId: org.a, userId: ids.stech!, role: 'technician' }))).toBe('NOT_FOUND');
      expect(await codeOf(h.admin.admin.providers.grants.set.mutate({ org: 'Provider', client: 'Client C', email: email('ptech'), role: 'viewer' }))).toBe('NOT_FOUND');
      const sadmin = as(await login('sadmin'));
      expect(await codeOf(sadmin.providers.grants.revoke.mutate({ organizationId: org.a, userId: ids.pviewer! }))).toBe('NOT_FOUND');
      expect(await sadmin.providers.grants.list.query({})).toEqual([]);
      expect((await as(await login('stech')).auth.organizations.query()).map((entry) => entry.name)).toEqual(['Client C', 'Second MSP']);
      // The grant of the first test still stands: the refused attempts changed nothing.
      expect((await padmin.providers.grants.list.query({ organizationId: org.a })).map((grant) => grant.role)).toEqual(['technician']);
    });

    it('lets only a provider\'s admins grant, never as owner, never to a client\'s own people', async () => {
      expect(await codeOf(as(await login('ptech')).providers.grants.set.mutate({ organizationId: org.a, userId: ids.ptech!, role: 'admin' }))).toBe('FORBIDDEN');
      const inA = as((await switchTo('padmin', org.a)).sessionToken!);
      expect(await codeOf(inA.providers.grants.set.mutate({ organizationId: org.a, userId: ids.ptech!, role: 'admin' }))).toBe('NOT_FOUND');
      expect(await codeOf(as(await login('aowner')).providers.grants.set.mutate({ organizationId: org.a, userId: ids.aowner!, role: 'admin' }))).toBe('NOT_FOUND');
      const padmin = as(await login('padmin'));
      expect(await codeOf(padmin.providers.grants.set.mutate({ organizationId: org.a, userId: ids.ptech!, role: 'owner' as 'admin' }))).toBe('BAD_REQUEST');
      expect(await codeOf(padmin.providers.grants.set.mutate({ organizationId: org.a, userId: ids.aowner!, role: 'viewer' }))).toBe('NOT_FOUND');
    });

    it('serves the CLI: clients and grants by name', async () => {
      expect((await h.admin.admin.providers.clients.list.query({ org: 'Provider' })).map((client) => client.name)).toEqual(['Client A', 'Client B']);
      expect(await codeOf(h.admin.admin.providers.clients.create.mutate({ org: 'Client A', name: 'Nested' }))).toBe('BAD_REQUEST');
      await h.admin.admin.providers.grants.set.mutate({ org: 'Provider', client: 'Client B', email: email('ptech'), role: 'admin' });
      expect((await h.admin.admin.providers.grants.list.query({ org: 'Provider', client: 'Client B' })).map((grant) => grant.email)).toEqual([email('ptech')]);
      await h.admin.admin.providers.grants.revoke.mutate({ org: 'Provider', client: 'Client B', email: email('ptech') });
      expect(await h.admin.admin.providers.grants.list.query({ org: 'Provider', client: 'Client B' })).toEqual([]);
    });
  
    it.runIf(relational === 'pglite')('drives clients and grants from the `ninjait` command line, in the organization chosen with `org use`', async () => {
      const configDir = await mkdtemp(join(tmpdir(), 'ninjait-cli-config-'));
      try {
        process.env.NINJAIT_CONFIG = join(configDir, 'cli.json');
        const cli = (name: keyof typeof commands, ...args: string[]) => runCli(name, [...args, '--server', h.server.url, '--data-dir', h.dataDir]);
        expect(await cli('org', 'use', 'Provider')).toContain(org.provider);
        expect(JSON.parse(await readFile(join(configDir, 'cli.json'), 'utf8'))).toEqual({ org: { id: org.provider, name: 'Provider' } });
        expect(await cli('client', 'create', 'Client D')).toMatch(/Created client organization "Client D"/);
        const clients = JSON.parse(await cli('client', 'list', '--json')) as { name: string }[];
        expect(clients.map((client) => client.name)).toEqual(['Client A', 'Client B', 'Client D']);
        expect(await cli('grant', 'add', '--client', 'Client D', '--email', email('pviewer'), '--role', 'technician')).toContain('technician in Client D');
        const grants = JSON.parse(await cli('grant', 'list', '--client', 'Client D', '--json')) as { email: string; role: string }[];
        expect(grants.map(({ email: e, role }) => ({ e, role }))).toEqual([{ e: email('pviewer'), role: 'technician' }]);
        expect(await cli('grant', 'remove', '--client', 'Client D', '--email', email('pviewer'))).toContain('sessions ended');
        expect(JSON.parse(await cli('grant', 'list', '--client', 'Client D', '--json'))).toEqual([]);
        // --org wins over the saved choice: the second MSP has no client of that name.
        await expect(cli('grant', 'add', '--org', 'Second MSP', '--client', 'Client D', '--email', email('stech'), '--role', 'viewer')).rejects.toThrow(/not found/i);
        expect(grantCommand.usage).toContain('ninjait grant add');
        expect(await cli('org', 'current')).toContain('Provider');
      } finally {
        delete process.env.NINJAIT_CONFIG;
        await rm(configDir, { recursive: true, force: true });
      }
    }, 60_000);
  },
);
