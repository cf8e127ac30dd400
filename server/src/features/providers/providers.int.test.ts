import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf, fakeInventory, relationalEngines, startHarness, type Harness } from '../../../test-support/index.ts';

const PASSWORD = 'correct horse battery staple';

/**
 * Providers, clients and the organization switcher on a real server: who may enter which
 * organization with which role, what switching does to the session, and the cross-client fleet.
 */
describe.each(relationalEngines().map((relational) => ({ relational, cache: relational === 'postgres' && process.env.REDIS_URL ? 'redis' as const : 'memory' as const })))(
  'providers and clients on $relational + $cache',
  ({ relational, cache }) => {
    let h: Harness;
    const org = { provider: '', a: '', b: '', other: '' };
    const email = (who: string) => `${who}@msp-${relational}.test`;
    const login = async (who: string) => (await h.http().auth.login.mutate({ email: email(who), password: PASSWORD })).sessionToken;
    const as = (token: string) => h.http({ authorization: `Bearer ${token}` });
    const addPerson = (orgId: string, who: string, role: 'owner' | 'admin' | 'technician' | 'viewer') =>
      h.admin.admin.users.create.mutate({ org: orgId, email: email(who), password: PASSWORD, role });
    const enroll = async (orgId: string, name: string) => {
      const { token } = await h.admin.admin.tokens.create.mutate({ org: orgId });
      return (await h.http().agent.enroll.mutate({ token, inventory: fakeInventory(`${name}-${relational}`, name) })).deviceId;
    };

    beforeAll(async () => {
      h = await startHarness({ relational, cache, env: { RATE_LIMIT_MAX: '100000' } });
      // The first organization runs the server: on a self-hosted install, that is the MSP itself.
      org.provider = (await h.admin.admin.organizations.create.mutate({ name: 'Provider' })).id;
      org.other = (await h.admin.admin.organizations.create.mutate({ name: 'Unrelated tenant' })).id;
      await addPerson(org.provider, 'powner', 'owner');
      await addPerson(org.provider, 'padmin', 'admin');
      await addPerson(org.provider, 'ptech', 'technician');
      await addPerson(org.other, 'otheradmin', 'admin');
      const padmin = as(await login('padmin'));
      org.a = (await padmin.providers.createClient.mutate({ name: 'Client A' })).id;
      org.b = (await padmin.providers.createClient.mutate({ name: 'Client B' })).id;
      await addPerson(org.a, 'aowner', 'owner');
      await Promise.all([enroll(org.provider, 'p-host'), enroll(org.a, 'a-host-1'), enroll(org.a, 'a-host-2'), enroll(org.b, 'b-host'), enroll(org.other, 'z-host')]);
    }, 120_000);
    afterAll(async () => {
      await h?.stop();
    });

    it('keeps each person a member of their home organization, with the same role', async () => {
      const { rows } = await h.server.services.db.query<{ role: string }>(
        `SELECT m.role FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email = $1 AND m.organization_id = u.organization_id`, [email('ptech')]);
      expect(rows).toEqual([{ role: 'technician' }]);
    });

    it('lists the provider and all its clients to provider staff, and only their own organization to a client\'s people', async () => {
      const tech = await as(await login('ptech')).auth.organizations.query();
      expect(tech.map(({ name, role, via, current }) => ({ name, role, via, current }))).toEqual([
        { name: 'Client A', role: 'technician', via: 'provider', current: false },
        { name: 'Client B', role: 'technician', via: 'provider', current: false },
        { name: 'Provider', role: 'technician', via: 'member', current: true },
      ]);
      // Provider owners administer clients; they do not own them.
      const owner = await as(await login('powner')).auth.organizations.query();
      expect(owner.filter((entry) => entry.via === 'provider').map((entry) => entry.role)).toEqual(['admin', 'admin']);
      const client = await as(await login('aowner')).auth.organizations.query();
      expect(client.map((entry) => entry.name)).toEqual(['Client A']);
    });

    it('switches a technician into a client with their provider role, ending the old session', async () => {
      const before = await login('ptech');
      const switched = await as(before).auth.switchOrganization.mutate({ organizationId: org.a });
      expect(switched).toMatchObject({ organizationId: org.a, role: 'technician', switched: true });
      expect(await codeOf(as(before).auth.me.query())).toBe('UNAUTHORIZED');
      const inA = as(switched.sessionToken!);
      expect(await inA.auth.me.query()).toMatchObject({ organizationId: org.a, role: 'technician', organizationName: 'Client A' });
      const devices = await inA.devices.list.query({});
      expect(devices.items.map((device) => device.name).sort()).toEqual(['a-host-1', 'a-host-2']);
      // No escalation: a technician is a technician in the client too.
      expect(await codeOf(inA.users.create.mutate({ email: email('sneaky'), role: 'admin' }))).toBe('FORBIDDEN');
      expect(await codeOf(inA.providers.createClient.mutate({ name: 'Nested' }))).toBe('FORBIDDEN');
      // And back home.
      const home = await inA.auth.switchOrganization.mutate({ organizationId: org.provider });
      expect(await as(home.sessionToken!).auth.me.query()).toMatchObject({ organizationId: org.provider, role: 'technician' });
      const { rows } = await h.server.services.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_log WHERE action = 'auth.switch_organization' AND organization_id = $1`, [org.a]);
      expect(rows[0]!.n).toBeGreaterThanOrEqual(2);
    });

    it('refuses organizations without membership as not found, whoever asks', async () => {
      expect(await codeOf(as(await login('ptech')).auth.switchOrganization.mutate({ organizationId: org.other }))).toBe('NOT_FOUND');
      expect(await codeOf(as(await login('aowner')).auth.switchOrganization.mutate({ organizationId: org.b }))).toBe('NOT_FOUND');
      expect(await codeOf(as(await login('aowner')).auth.switchOrganization.mutate({ organizationId: org.provider }))).toBe('NOT_FOUND');
      expect(await codeOf(as(await login('otheradmin')).providers.createClient.mutate({ name: 'Not a provider' }))).toBe('FORBIDDEN');
    });

    it('shows provider staff every client\'s devices in one paged list, with counts per organization', async () => {
      const tech = as(await login('ptech'));
      const all = await tech.providers.fleet.query({ limit: 200 });
      expect(all.devices.map((device) => `${device.organizationName}/${device.name}`)).toEqual(['Client A/a-host-1', 'Client A/a-host-2', 'Client B/b-host', 'Provider/p-host']);
      expect(all.total).toBe(4);
      expect(all.organizations.find((entry) => entry.organizationId === org.a)).toMatchObject({ devices: 2 });
      const second = await tech.providers.fleet.query({ limit: 2, offset: 2 });
      expect(second.devices.map((device) => device.name)).toEqual(['b-host', 'p-host']);
      expect((await tech.providers.fleet.query({ status: 'online' })).devices.every((device) => device.status === 'online')).toBe(true);
      const client = await as(await login('aowner')).providers.fleet.query({});
      expect(client.devices.map((device) => device.organizationName)).toEqual(['Client A', 'Client A']);
      expect(await codeOf(tech.providers.fleet.query({ limit: 100_000 }))).toBe('BAD_REQUEST');
    });

    it('applies the client\'s two-factor rule to switching and to the fleet', async () => {
      await h.server.services.db.query('UPDATE organizations SET require_two_factor = true WHERE id = $1', [org.b]);
      try {
        const tech = as(await login('ptech'));
        const listed = await tech.auth.organizations.query();
        expect(listed.find((entry) => entry.organizationId === org.b)).toMatchObject({ needsSecondFactor: true });
        expect(await codeOf(tech.auth.switchOrganization.mutate({ organizationId: org.b }))).toBe('FORBIDDEN');
        expect((await tech.providers.fleet.query({})).devices.some((device) => device.organizationId === org.b)).toBe(false);
      } finally {
        await h.server.services.db.query('UPDATE organizations SET require_two_factor = false WHERE id = $1', [org.b]);
      }
    });

    it('keeps API keys in the organization they were made in', async () => {
      const tech = as(await login('ptech'));
      const { key } = await tech.apiKeys.create.mutate({ name: 'integration', scopes: ['admin'] });
      expect(await as(key).auth.me.query()).toMatchObject({ organizationId: org.provider });
      expect(await codeOf(as(key).auth.switchOrganization.mutate({ organizationId: org.a }))).toBe('FORBIDDEN');
      expect(await codeOf(as(key).auth.organizations.query())).toBe('FORBIDDEN');
      expect(await codeOf(as(key).providers.fleet.query({}))).toBe('FORBIDDEN');
    });

    it('ends every session, client ones included, when the provider role changes', async () => {
      const inA = as((await as(await login('ptech')).auth.switchOrganization.mutate({ organizationId: org.a })).sessionToken!);
      expect(await inA.auth.me.query()).toMatchObject({ role: 'technician' });
      const padmin = as(await login('padmin'));
      const people = await padmin.users.list.query();
      await padmin.users.setRole.mutate({ userId: people.find((person) => person.email === email('ptech'))!.id, role: 'viewer' });
      expect(await codeOf(inA.auth.me.query())).toBe('UNAUTHORIZED');
      const again = await as(await login('ptech')).auth.switchOrganization.mutate({ organizationId: org.a });
      expect(again.role).toBe('viewer');
      const { rows } = await h.server.services.db.query<{ role: string }>(
        `SELECT m.role FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email = $1`, [email('ptech')]);
      expect(rows).toEqual([{ role: 'viewer' }]);
    });

    it('lists a provider\'s clients to its admins, and nothing to an organization that is not a provider', async () => {
      const clients = await as(await login('padmin')).providers.clients.query();
      expect(clients.map(({ name, people, devices }) => ({ name, people, devices }))).toEqual([
        { name: 'Client A', people: 1, devices: 2 }, { name: 'Client B', people: 0, devices: 1 },
      ]);
      expect(await as(await login('otheradmin')).providers.clients.query()).toEqual([]);
    });
  },
);
