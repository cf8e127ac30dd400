import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf, fakeInventory, relationalEngines, startHarness, type Client, type Harness } from '../../../test-support/index.ts';

const PASSWORD = 'correct horse battery staple';
const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
const nextMonth = () => {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString().slice(0, 7);
};

/**
 * Assets, settings and contracts over a real server: role checks, tenant isolation, validation
 * and audit; and who each API call is recorded as (people, API keys, agents) for billing.
 */
describe.each(relationalEngines().map((relational) => ({ relational, cache: relational === 'postgres' && process.env.REDIS_URL ? 'redis' as const : 'memory' as const })))(
  'assets, settings and contracts on $relational + $cache',
  ({ relational, cache }) => {
    let h: Harness;
    let admin: Client;
    let technician: Client;
    let viewer: Client;
    let otherAdmin: Client;
    let orgId: string;
    let device: { deviceId: string; deviceSecret: string };
    let otherDeviceId: string;

    beforeAll(async () => {
      h = await startHarness({ relational, cache, env: { RATE_LIMIT_MAX: '100000' } });
      const org = await h.admin.admin.organizations.create.mutate({ name: `assets-${relational}` });
      const other = await h.admin.admin.organizations.create.mutate({ name: `assets-other-${relational}` });
      orgId = org.id;
      const person = async (organization: string, role: 'admin' | 'technician' | 'viewer', label: string) => {
        const email = `${role}-${label}@assets-${relational}.test`;
        await h.admin.admin.users.create.mutate({ org: organization, email, password: PASSWORD, role });
        const { sessionToken } = await h.http().auth.login.mutate({ email, password: PASSWORD });
        return h.http({ authorization: `Bearer ${sessionToken}` });
      };
      [admin, technician, viewer, otherAdmin] = await Promise.all([
        person(org.id, 'admin', 'a'), person(org.id, 'technician', 'a'), person(org.id, 'viewer', 'a'), person(other.id, 'admin', 'b'),
      ]);
      const enroll = async (organization: string, name: string) => {
        const { token } = await h.admin.admin.tokens.create.mutate({ org: organization });
        return h.http().agent.enroll.mutate({ token, inventory: fakeInventory(name) });
      };
      device = await enroll(org.id, `assets-device-${relational}`);
      otherDeviceId = (await enroll(other.id, `assets-other-device-${relational}`)).deviceId;
    }, 120_000);
    afterAll(async () => {
      await h?.stop();
    });

    it('keeps assets: admins write, technicians read and search, the warranty filter, one asset per device, other tenants see nothing', async () => {
      const laptop = await admin.assets.create.mutate({
        name: 'Reception laptop', kind: 'laptop', serial: 'SN-100', manufacturer: 'Lenovo', model: 'T14', purchaseDate: '2024-02-01',
        warrantyEnd: inDays(20), assignee: 'Dana', location: 'Front desk', deviceId: device.deviceId,
      });
      expect(laptop).toMatchObject({ deviceId: device.deviceId, deviceName: expect.any(String), warrantyEnd: inDays(20), notes: null });
      const dock = await admin.assets.create.mutate({ name: 'Dock 2', kind: 'dock', serial: 'DK-2', warrantyEnd: inDays(200) });
      await admin.assets.create.mutate({ name: 'Old monitor', kind: 'monitor', warrantyEnd: inDays(-5) });

      expect(await codeOf(technician.assets.create.mutate({ name: 'x', kind: 'dock' }))).toBe('FORBIDDEN');
      expect(await codeOf(viewer.assets.list.query({}))).toBe('FORBIDDEN');
      expect(await codeOf(admin.assets.create.mutate({ name: 'x', kind: 'dock', colour: 'red' } as never))).toBe('BAD_REQUEST');
      expect(await codeOf(admin.assets.create.mutate({ name: 'x', kind: 'dock', warrantyEnd: '2024-13-40' }))).toBe('BAD_REQUEST');
      expect(await codeOf(admin.assets.create.mutate({ name: 'Dup', kind: 'dock', serial: 'DK-2' }))).toBe('CONFLICT');
      // One asset per device.
      expect(await codeOf(admin.assets.create.mutate({ name: 'Twin', kind: 'laptop', deviceId: device.deviceId }))).toBe('CONFLICT');
      // Another organization's device reads as missing.
      expect(await codeOf(admin.assets.update.mutate({ id: dock.id, deviceId: otherDeviceId }))).toBe('NOT_FOUND');

      expect((await technician.assets.list.query({ search: 'lenovo' })).items.map((asset) => asset.name)).toEqual(['Reception laptop']);
      expect((await technician.assets.list.query({ search: '100%' })).total).toBe(0);
      expect((await technician.assets.list.query({ warrantyWithinDays: 30 })).items.map((asset) => asset.name)).toEqual(['Reception laptop']);
      expect((await technician.assets.list.query({ warrantyWithinDays: 365 })).items.map((asset) => asset.name)).toEqual(['Reception laptop', 'Dock 2']);
      expect((await technician.assets.list.query({})).total).toBe(3);
      expect(await technician.assets.forDevice.query({ deviceId: device.deviceId })).toMatchObject({ id: laptop.id });

      const moved = await admin.assets.update.mutate({ id: laptop.id, location: 'Back office', deviceId: null });
      expect(moved).toMatchObject({ location: 'Back office', deviceId: null, serial: 'SN-100', assignee: 'Dana' });
      expect(await technician.assets.forDevice.query({ deviceId: device.deviceId })).toBeNull();

      expect(await codeOf(otherAdmin.assets.get.query({ id: laptop.id }))).toBe('NOT_FOUND');
      expect(await codeOf(otherAdmin.assets.remove.mutate({ id: laptop.id }))).toBe('NOT_FOUND');
      expect((await otherAdmin.assets.list.query({})).total).toBe(0);

      // The local operator, as `ninjait asset` does.
      const spare = await h.admin.admin.assets.create.mutate({ org: orgId, name: 'Spare laptop', kind: 'laptop' });
      expect((await h.admin.admin.assets.list.query({ org: orgId, search: 'spare' })).items.map((asset) => asset.id)).toEqual([spare.id]);
      await h.admin.admin.assets.remove.mutate({ org: orgId, id: spare.id });
      await admin.assets.remove.mutate({ id: dock.id });
      expect(await codeOf(technician.assets.get.query({ id: dock.id }))).toBe('NOT_FOUND');

      const entries = await h.server.services.documents.auditLog.find({ organizationId: orgId, limit: 100 });
      const actions = entries.map((entry) => entry.action);
      expect(actions.filter((action) => action === 'asset.create')).toHaveLength(4);
      expect(actions).toEqual(expect.arrayContaining(['asset.update', 'asset.delete']));
      const update = entries.find((entry) => entry.action === 'asset.update' && entry.resourceId === laptop.id)!;
      expect(update.details).toEqual({ changes: { location: { from: 'Front desk', to: 'Back office' }, deviceId: { from: device.deviceId, to: null } } });
    });

    it('stores validated settings for the organization and its devices, and refuses unknown keys and values out of bounds', async () => {
      expect((await viewer.settings.organization.query()).settings).toEqual({});
      await admin.settings.setOrganization.mutate({ settings: { timezone: 'Europe/Paris', offlineThresholdMinutes: 15, maintenanceContact: { name: 'Ops', email: 'ops@example.test' } } });
      expect(await codeOf(technician.settings.setOrganization.mutate({ settings: {} }))).toBe('FORBIDDEN');
      expect(await codeOf(admin.settings.setOrganization.mutate({ settings: { colour: 'red' } as never }))).toBe('BAD_REQUEST');
      expect(await codeOf(admin.settings.setOrganization.mutate({ settings: { timezone: 'Mars/Olympus' } }))).toBe('BAD_REQUEST');
      expect(await codeOf(admin.settings.setOrganization.mutate({ settings: { agentIntervalSeconds: 1 } }))).toBe('BAD_REQUEST');
      expect(await codeOf(admin.settings.setOrganization.mutate({ settings: { maintenanceContact: { name: 'Ops', phone: 'call me maybe' } } }))).toBe('BAD_REQUEST');
      expect(await codeOf(admin.settings.setOrganization.mutate({ settings: { maintenanceContact: { name: 'x'.repeat(201) } } }))).toBe('BAD_REQUEST');

      await technician.settings.setDevice.mutate({ deviceId: device.deviceId, settings: { agentIntervalSeconds: 30, offlineThresholdMinutes: 5 } });
      expect(await codeOf(viewer.settings.setDevice.mutate({ deviceId: device.deviceId, settings: {} }))).toBe('FORBIDDEN');
      const mine = await viewer.settings.device.query({ deviceId: device.deviceId });
      expect(mine.settings).toEqual({ agentIntervalSeconds: 30, offlineThresholdMinutes: 5 });
      // The device's own values win over its organization's.
      expect(mine.effective).toEqual({ timezone: 'Europe/Paris', offlineThresholdMinutes: 5, agentIntervalSeconds: 30, maintenanceContact: { name: 'Ops', email: 'ops@example.test' } });
      expect(await codeOf(otherAdmin.settings.device.query({ deviceId: device.deviceId }))).toBe('NOT_FOUND');
      expect(await codeOf(otherAdmin.settings.setDevice.mutate({ deviceId: device.deviceId, settings: {} }))).toBe('NOT_FOUND');
      expect((await otherAdmin.settings.organization.query()).settings).toEqual({});

      const entries = await h.server.services.documents.auditLog.find({ organizationId: orgId, limit: 100 });
      expect(entries.find((entry) => entry.action === 'settings.organization.update')?.details).toMatchObject({ before: {}, after: { timezone: 'Europe/Paris' } });
      expect(entries.find((entry) => entry.action === 'settings.device.update')?.resourceId).toBe(device.deviceId);
    });

    it('sets contracts for the coming months: admins of their own organization, the operator for any', async () => {
      const start = nextMonth();
      const plain = await admin.contracts.show.query();
      expect(plain).toEqual({ inForce: null, rates: { perDevice: 5, perApiCall: 0.001, perGb: 0.1, currency: 'USD' }, contracts: [] });
      expect(await codeOf(technician.contracts.show.query())).toBe('FORBIDDEN');
      const thisMonth = new Date().toISOString().slice(0, 7);
      const terms = { perDevice: 3.5, perApiCall: 0.0005, perGb: 0.08, currency: 'EUR' };
      expect(await codeOf(admin.contracts.set.mutate({ ...terms, startMonth: thisMonth }))).toBe('BAD_REQUEST');
      expect(await codeOf(admin.contracts.set.mutate({ ...terms, currency: 'euro', startMonth: start }))).toBe('BAD_REQUEST');
      expect(await codeOf(admin.contracts.set.mutate({ ...terms, perDevice: -1, startMonth: start }))).toBe('BAD_REQUEST');
      const { contract } = await admin.contracts.set.mutate({ ...terms, startMonth: start, endMonth: start });
      expect(contract).toMatchObject({ ...terms, startsOn: `${start}-01`, organizationId: orgId });
      expect(await codeOf(admin.contracts.set.mutate({ ...terms, startMonth: start }))).toBe('CONFLICT');
      expect((await otherAdmin.contracts.show.query()).contracts).toEqual([]);
      expect((await h.admin.admin.contracts.show.query({ org: orgId })).contracts.map((row) => row.id)).toEqual([contract.id]);
      const entries = await h.server.services.documents.auditLog.find({ organizationId: orgId, limit: 100 });
      expect(entries.find((entry) => entry.action === 'contract.create')?.details).toMatchObject({ perDevice: 3.5, currency: 'EUR' });
    });

    it('records who made each call: a person, an API key or an agent', async () => {
      const { key } = await admin.apiKeys.create.mutate({ name: 'psa', scopes: ['devices:read'] });
      await h.http({ authorization: `Bearer ${key}` }).devices.list.query({});
      const agent = h.ws({ deviceId: device.deviceId, deviceSecret: device.deviceSecret });
      await agent.agent.heartbeat.mutate({ agentVersion: '0.1.0', intervalMs: 1000, bufferedRecords: 0, bufferedBytes: 0, droppedTotal: 0, errors: [] });
      await h.server.services.apiCalls!.flush();
      const rows = await h.server.services.analytics.query<{ source: string; endpoint: string }>(
        'SELECT DISTINCT source, endpoint FROM api_calls WHERE organization_id = {org:UUID}', { org: orgId });
      const sources = (endpoint: string) => rows.filter((row) => row.endpoint === endpoint).map((row) => row.source).sort();
      expect(sources('agent.heartbeat')).toEqual(['agent']);
      expect(sources('devices.list')).toEqual(['api_key']);
      expect(sources('assets.create')).toEqual(['person']);
    });
  },
);
