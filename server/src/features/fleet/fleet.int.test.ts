import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  codeOf, fakeInventory, fakeSampleRecord, relationalEngines, startHarness, type Client, type Harness,
} from '../../../test-support/index.ts';

const PASSWORD = 'correct horse battery';
const cacheFor = (engine: 'pglite' | 'postgres') => (engine === 'postgres' ? 'redis' : 'memory') as 'redis' | 'memory';

describe.each(relationalEngines())('structure of the fleet on %s', (engine) => {
  let h: Harness;
  let owner: Client;
  let tech: Client;
  let viewer: Client;
  let ownerB: Client;
  let orgA: string;
  let orgB: string;
  const org = `Fleet ${engine}`;
  const devices: Record<string, string> = {};

  /** A device row as enrollment leaves it, with the OS and status a test needs. */
  async function device(organizationId: string, name: string, status: string, osType: string, osVersion: string) {
    const { rows } = await h.server.services.db.query<{ id: string }>(
      `INSERT INTO devices (name, organization_id, status, os_type, os_version, approval_state) VALUES ($1, $2, $3, $4, $5, 'approved') RETURNING id`,
      [name, organizationId, status, osType, osVersion]);
    return rows[0]!.id;
  }

  beforeAll(async () => {
    h = await startHarness({ relational: engine, cache: cacheFor(engine), env: { RATE_LIMIT_MAX: '100000', INGEST_LOG_RETENTION_SEC: '3600' } });
    orgA = (await h.admin.admin.organizations.create.mutate({ name: org })).id;
    orgB = (await h.admin.admin.organizations.create.mutate({ name: `${org} other` })).id;
    const person = async (organization: string, role: 'owner' | 'technician' | 'viewer', email: string) => {
      await h.admin.admin.users.create.mutate({ org: organization, email, password: PASSWORD, role });
      return h.http({ authorization: `Bearer ${(await h.http().auth.login.mutate({ email, password: PASSWORD })).sessionToken}` });
    };
    owner = await person(orgA, 'owner', `owner-${engine}@fleet-a.test`);
    tech = await person(orgA, 'technician', `tech-${engine}@fleet-a.test`);
    viewer = await person(orgA, 'viewer', `viewer-${engine}@fleet-a.test`);
    ownerB = await person(orgB, 'owner', `owner-${engine}@fleet-b.test`);
    devices.web1 = await device(orgA, 'web-1', 'online', 'linux', 'Ubuntu 22.04');
    devices.web2 = await device(orgA, 'web-2', 'offline', 'linux', 'Debian 12');
    devices.desk = await device(orgA, 'desk-1', 'online', 'windows', 'Windows 11 Pro');
    devices.mac = await device(orgA, 'mac-1', 'offline', 'darwin', 'macOS 14');
    devices.foreign = await device(orgB, 'web-foreign', 'online', 'linux', 'Ubuntu 22.04');
  }, 300_000);

  afterAll(async () => {
    await h?.stop();
  });

  it('keeps sites, tags and typed custom fields, checks every value against its type, and audits each change', async () => {
    const hq = await owner.fleet.sites.create.mutate({ name: 'HQ', address: '1 Main St', timezone: 'Europe/Paris' });
    expect(hq).toMatchObject({ name: 'HQ', timezone: 'Europe/Paris' });
    expect(await codeOf(owner.fleet.sites.create.mutate({ name: 'hq' }))).toBe('CONFLICT');
    expect(await codeOf(owner.fleet.sites.create.mutate({ name: 'Moon', timezone: 'Mars/Olympus' }))).toBe('BAD_REQUEST');
    expect(await codeOf(owner.fleet.sites.create.mutate({ name: 'x'.repeat(201) }))).toBe('BAD_REQUEST');
    await owner.fleet.sites.create.mutate({ name: 'Branch' });

    const web = await owner.fleet.tags.create.mutate({ name: 'web' });
    await owner.fleet.tags.create.mutate({ name: 'critical' });
    expect(await codeOf(owner.fleet.tags.create.mutate({ name: 't'.repeat(65) }))).toBe('BAD_REQUEST');
    expect(await codeOf(owner.fleet.tags.create.mutate({ name: 'bad\u0000tag' }))).toBe('BAD_REQUEST');

    const rack = await owner.fleet.fields.create.mutate({ name: 'Rack', type: 'number' });
    const bought = await owner.fleet.fields.create.mutate({ name: 'Bought', type: 'date' });
    const managed = await owner.fleet.fields.create.mutate({ name: 'Managed', type: 'boolean' });
    const owner_ = await owner.fleet.fields.create.mutate({ name: 'Owner', type: 'text', required: true });
    const tier = await owner.fleet.fields.create.mutate({ name: 'Tier', type: 'select', options: ['gold', 'silver'] });
    expect(await codeOf(owner.fleet.fields.create.mutate({ name: 'Empty', type: 'select' }))).toBe('BAD_REQUEST');
    expect(await codeOf(owner.fleet.fields.create.mutate({ name: 'Odd', type: 'number', options: ['1'] }))).toBe('BAD_REQUEST');

    await owner.fleet.device.setSite.mutate({ deviceId: devices.web1!, siteId: hq.id });
    await owner.fleet.device.setTags.mutate({ deviceId: devices.web1!, tagIds: [web.id] });
    await owner.fleet.device.setTags.mutate({ deviceId: devices.web2!, tagIds: [web.id] });
    const values = await owner.fleet.device.setFields.mutate({
      deviceId: devices.web1!, values: { [rack.id]: 12, [bought.id]: '2024-03-01', [managed.id]: true, [owner_.id]: 'Ops Team', [tier.id]: 'gold' },
    });
    expect(Object.fromEntries(values.map((v) => [v.name, v.value]))).toEqual({ Bought: '2024-03-01', Managed: true, Owner: 'Ops Team', Rack: 12, Tier: 'gold' });
    await owner.fleet.device.setFields.mutate({ deviceId: devices.web2!, values: { [rack.id]: 3, [bought.id]: '2021-06-15', [owner_.id]: 'Dev Team', [tier.id]: 'silver' } });
    await owner.fleet.device.setFields.mutate({ deviceId: devices.desk!, values: { [rack.id]: 7, [managed.id]: false } });

    // Wrong types are refused, and nothing of a refused set is written.
    for (const bad of [{ [rack.id]: 'twelve' }, { [bought.id]: '2024-13-45' }, { [managed.id]: 'yes' }, { [tier.id]: 'bronze' }, { [owner_.id]: null }]) {
      expect(await codeOf(owner.fleet.device.setFields.mutate({ deviceId: devices.web1!, values: { [rack.id]: 99, ...bad } }))).toBe('BAD_REQUEST');
    }
    const after = await tech.fleet.device.get.query({ deviceId: devices.web1! });
    expect(after).toMatchObject({ siteId: hq.id, tags: [{ name: 'web' }] });
    expect(after.fields.find((f) => f.name === 'Rack')?.value).toBe(12);

    const actions = (await owner.audit.list.query({ limit: 200 })).map((entry: { action: string }) => entry.action);
    for (const action of ['site.create', 'tag.create', 'custom_field.create', 'device.site', 'device.tags', 'device.fields']) expect(actions).toContain(action);
  });

  it('evaluates each group operator in the database', async () => {
    const sites = await tech.fleet.sites.list.query();
    const tags = await tech.fleet.tags.list.query();
    const fields = await tech.fleet.fields.list.query();
    const hq = sites.find((s) => s.name === 'HQ')!;
    const web = tags.find((t) => t.name === 'web')!;
    const field = (name: string) => fields.find((f) => f.name === name)!.id;
    expect(hq.devices).toBe(1);
    expect(web.devices).toBe(2);

    const members = async (filter: Parameters<typeof owner.fleet.groups.create.mutate>[0]['filter']) => {
      const group = await owner.fleet.groups.create.mutate({ name: `g-${Math.random().toString(36).slice(2)}`, filter });
      const ids = await tech.fleet.groups.members.query({ id: group.id });
      await owner.fleet.groups.delete.mutate({ id: group.id });
      return ids.map((id) => Object.entries(devices).find(([, value]) => value === id)![0]).sort();
    };
    expect(await members({ conditions: [{ kind: 'os', op: 'equals', value: 'LINUX' }] })).toEqual(['web1', 'web2']);
    expect(await members({ conditions: [{ kind: 'os', op: 'contains', value: 'ubuntu 22' }] })).toEqual(['web1']);
    expect(await members({ conditions: [{ kind: 'site', op: 'equals', siteId: hq.id }] })).toEqual(['web1']);
    expect(await members({ conditions: [{ kind: 'site', op: 'equals', siteId: null }] })).toEqual(['desk', 'mac', 'web2']);
    expect(await members({ conditions: [{ kind: 'tag', op: 'has', tagId: web.id }] })).toEqual(['web1', 'web2']);
    expect(await members({ conditions: [{ kind: 'status', op: 'equals', value: 'offline' }] })).toEqual(['mac', 'web2']);
    expect(await members({ conditions: [{ kind: 'field', fieldId: field('Rack'), op: '>', value: 5 }] })).toEqual(['desk', 'web1']);
    expect(await members({ conditions: [{ kind: 'field', fieldId: field('Rack'), op: '<', value: 5 }] })).toEqual(['web2']);
    expect(await members({ conditions: [{ kind: 'field', fieldId: field('Rack'), op: 'equals', value: 7 }] })).toEqual(['desk']);
    expect(await members({ conditions: [{ kind: 'field', fieldId: field('Bought'), op: '<', value: '2023-01-01' }] })).toEqual(['web2']);
    expect(await members({ conditions: [{ kind: 'field', fieldId: field('Bought'), op: '>', value: '2023-01-01' }] })).toEqual(['web1']);
    expect(await members({ conditions: [{ kind: 'field', fieldId: field('Bought'), op: 'equals', value: '2024-03-01' }] })).toEqual(['web1']);
    expect(await members({ conditions: [{ kind: 'field', fieldId: field('Owner'), op: 'contains', value: 'team' }] })).toEqual(['web1', 'web2']);
    expect(await members({ conditions: [{ kind: 'field', fieldId: field('Owner'), op: 'equals', value: 'dev team' }] })).toEqual(['web2']);
    expect(await members({ conditions: [{ kind: 'field', fieldId: field('Tier'), op: 'equals', value: 'gold' }] })).toEqual(['web1']);
    expect(await members({ conditions: [{ kind: 'field', fieldId: field('Managed'), op: 'equals', value: false }] })).toEqual(['desk']);
    expect(await members({ match: 'all', conditions: [{ kind: 'tag', op: 'has', tagId: web.id }, { kind: 'status', op: 'equals', value: 'online' }] })).toEqual(['web1']);
    expect(await members({ match: 'any', conditions: [{ kind: 'os', op: 'equals', value: 'darwin' }, { kind: 'os', op: 'equals', value: 'windows' }] })).toEqual(['desk', 'mac']);
    expect(await members({ conditions: [] })).toEqual(['desk', 'mac', 'web1', 'web2']);

    // Comparisons a field's type cannot make, and filters past their bounds, are refused with a reason.
    expect(await codeOf(owner.fleet.groups.create.mutate({ name: 'bad', filter: { conditions: [{ kind: 'field', fieldId: field('Rack'), op: 'contains', value: 5 }] } }))).toBe('BAD_REQUEST');
    expect(await codeOf(owner.fleet.groups.create.mutate({ name: 'bad', filter: { conditions: [{ kind: 'field', fieldId: field('Owner'), op: '>', value: 'a' }] } }))).toBe('BAD_REQUEST');
    expect(await codeOf(owner.fleet.groups.create.mutate({ name: 'bad', filter: { conditions: [{ kind: 'field', fieldId: field('Bought'), op: '<', value: 'soon' }] } }))).toBe('BAD_REQUEST');
    const many = Array.from({ length: 21 }, () => ({ kind: 'status' as const, op: 'equals' as const, value: 'online' as const }));
    expect(await codeOf(owner.fleet.groups.create.mutate({ name: 'big', filter: { conditions: many } }))).toBe('BAD_REQUEST');
    // Values that look like SQL are only values.
    expect(await members({ conditions: [{ kind: 'os', op: 'contains', value: "' OR 1=1 --" }] })).toEqual([]);
  });

  it('filters the fleet table by site, tag, group and custom field', async () => {
    const [hq] = (await tech.fleet.sites.list.query()).filter((s) => s.name === 'HQ');
    const [web] = (await tech.fleet.tags.list.query()).filter((t) => t.name === 'web');
    const rack = (await tech.fleet.fields.list.query()).find((f) => f.name === 'Rack')!;
    const online = await owner.fleet.groups.create.mutate({ name: 'Online Linux', filter: { conditions: [{ kind: 'os', op: 'equals', value: 'linux' }, { kind: 'status', op: 'equals', value: 'online' }] } });
    const names = async (input: Parameters<typeof viewer.devices.list.query>[0]) => {
      const page = await viewer.devices.list.query(input);
      expect(page.total).toBe(page.items.length);
      return page.items.map((item) => item.name).sort();
    };
    expect(await names({ siteId: hq!.id })).toEqual(['web-1']);
    expect(await names({ tagId: web!.id })).toEqual(['web-1', 'web-2']);
    expect(await names({ groupId: online.id })).toEqual(['web-1']);
    expect(await names({ field: { fieldId: rack.id, op: '>', value: 5 } })).toEqual(['desk-1', 'web-1']);
    expect(await names({ tagId: web!.id, field: { fieldId: rack.id, op: '<', value: 5 } })).toEqual(['web-2']);
    expect(await names({ tagId: web!.id, status: 'offline' })).toEqual(['web-2']);
    // Each row carries its tag names, for the table to show.
    for (const item of (await viewer.devices.list.query({ tagId: web!.id })).items) expect(item.tags).toContain('web');
    expect((await viewer.devices.list.query({ search: 'mac-1' })).items.map((item) => item.tags)).toEqual([[]]);
  });

  it('never lets one organization see, match or reach another organization\'s structure', async () => {
    const webA = (await tech.fleet.tags.list.query()).find((t) => t.name === 'web')!;
    const hqA = (await tech.fleet.sites.list.query()).find((s) => s.name === 'HQ')!;
    const groupA = (await tech.fleet.groups.list.query()).find((g) => g.name === 'Online Linux')!;
    const tagB = await ownerB.fleet.tags.create.mutate({ name: 'web' });
    const siteB = await ownerB.fleet.sites.create.mutate({ name: 'HQ' });

    expect(await ownerB.fleet.tags.list.query()).toEqual([expect.objectContaining({ name: 'web', devices: 0 })]);
    // Another organization's ids are not found, for reads and writes alike.
    expect(await codeOf(ownerB.fleet.groups.members.query({ id: groupA.id }))).toBe('NOT_FOUND');
    expect(await codeOf(ownerB.fleet.groups.create.mutate({ name: 'steal', filter: { conditions: [{ kind: 'tag', op: 'has', tagId: webA.id }] } }))).toBe('NOT_FOUND');
    expect(await codeOf(ownerB.fleet.device.setTags.mutate({ deviceId: devices.foreign!, tagIds: [webA.id] }))).toBe('NOT_FOUND');
    expect(await codeOf(ownerB.fleet.device.setSite.mutate({ deviceId: devices.foreign!, siteId: hqA.id }))).toBe('NOT_FOUND');
    expect(await codeOf(ownerB.fleet.device.get.query({ deviceId: devices.web1! }))).toBe('NOT_FOUND');
    expect(await codeOf(owner.fleet.device.setTags.mutate({ deviceId: devices.web1!, tagIds: [tagB.id] }))).toBe('NOT_FOUND');
    expect(await codeOf(ownerB.fleet.sites.delete.mutate({ id: hqA.id }))).toBe('NOT_FOUND');
    expect(await codeOf(ownerB.devices.list.query({ groupId: groupA.id }))).toBe('NOT_FOUND');
    // A filter naming another organization's tag or site lists nothing of theirs.
    expect((await ownerB.devices.list.query({ tagId: webA.id })).items).toEqual([]);
    expect((await ownerB.devices.list.query({ siteId: hqA.id })).items).toEqual([]);
    expect((await owner.devices.list.query({ siteId: siteB.id })).items).toEqual([]);
    // Even written directly, the database refuses a link across organizations.
    await expect(h.server.services.db.query('INSERT INTO device_tags (organization_id, device_id, tag_id) VALUES ($1, $2, $3)', [orgA, devices.web1, tagB.id])).rejects.toThrow();
    await expect(h.server.services.db.query('UPDATE devices SET site_id = $1 WHERE id = $2', [siteB.id, devices.web1])).rejects.toThrow();
    // The group of B that looks like A's matches only B's devices.
    await ownerB.fleet.device.setTags.mutate({ deviceId: devices.foreign!, tagIds: [tagB.id] });
    const groupB = await ownerB.fleet.groups.create.mutate({ name: 'web', filter: { conditions: [{ kind: 'os', op: 'equals', value: 'linux' }] } });
    expect(await ownerB.fleet.groups.members.query({ id: groupB.id })).toEqual([devices.foreign]);
    // The fleet table's tag names come from the row's own organization only.
    expect((await ownerB.devices.list.query({})).items.map((item) => [item.name, item.tags])).toEqual([['web-foreign', ['web']]]);
    expect(await codeOf(ownerB.fleet.tags.assign.mutate({ deviceIds: [devices.web1!], tagIds: [tagB.id], add: true }))).toBe('NOT_FOUND');
  });

  it('lets technicians read the structure and only admins change it', async () => {
    expect(await codeOf(viewer.fleet.sites.list.query())).toBe('FORBIDDEN');
    expect(await codeOf(tech.fleet.sites.create.mutate({ name: 'Tech site' }))).toBe('FORBIDDEN');
    expect(await codeOf(tech.fleet.device.setTags.mutate({ deviceId: devices.web1!, tagIds: [] }))).toBe('FORBIDDEN');
    const web = (await tech.fleet.tags.list.query()).find((t) => t.name === 'web')!;
    expect(await codeOf(tech.fleet.tags.assign.mutate({ deviceIds: [devices.web1!], tagIds: [web.id], add: true }))).toBe('FORBIDDEN');
    // The bulk action is bounded: 501 ids are refused before anything is read.
    expect(await codeOf(owner.fleet.tags.assign.mutate({ deviceIds: Array.from({ length: 501 }, () => devices.web1!), tagIds: [web.id], add: true }))).toBe('BAD_REQUEST');
    expect((await tech.fleet.groups.list.query()).length).toBeGreaterThan(0);
  });

  it('fires a rule scoped to a tag only for tagged devices, and never for an excluded one', async () => {
    const enroll = async (name: string) => {
      const { token } = await h.admin.admin.tokens.create.mutate({ org });
      const enrolled = await h.http().agent.enroll.mutate({ token, inventory: fakeInventory(`${engine}-${name}`, name) });
      return { id: enrolled.deviceId, agent: h.ws({ deviceId: enrolled.deviceId, deviceSecret: enrolled.deviceSecret }) };
    };
    const tagged = await enroll('scoped-tagged');
    const excluded = await enroll('scoped-excluded');
    const untagged = await enroll('scoped-untagged');
    const db = (await owner.fleet.tags.create.mutate({ name: 'db' })).id;
    await owner.fleet.tags.assign.mutate({ deviceIds: [tagged.id, excluded.id], tagIds: [db], add: true });
    const rule = await owner.alertRules.create.mutate({
      name: 'db hot', condition: { kind: 'metric', metric: 'cpu', op: '>=', threshold: 0, forSec: 0 },
      scope: { kind: 'tag', id: db }, excludedDeviceIds: [excluded.id],
    });
    expect(rule).toMatchObject({ scopeKind: 'tag', scopeValue: db, excludedDeviceIds: [excluded.id] });
    // A scope of another organization's tag, or with no id, is refused.
    const tagB = (await ownerB.fleet.tags.list.query())[0]!;
    expect(await codeOf(owner.alertRules.create.mutate({ name: 'x', condition: rule.condition, scope: { kind: 'tag', id: tagB.id } }))).toBe('NOT_FOUND');
    expect(await codeOf(owner.alertRules.create.mutate({ name: 'x', condition: rule.condition, scope: { kind: 'tag', id: null } }))).toBe('BAD_REQUEST');

    const t0 = Date.now();
    for (const target of [tagged, excluded, untagged]) await target.agent.agent.push.mutate({ records: [1, 2].map((seq) => fakeSampleRecord(seq, t0 + seq * 1000, 50)) });
    await h.server.drained();
    const alerts = (await owner.alerts.list.query({})).filter((alert) => alert.ruleId === rule.id);
    expect(alerts.map((alert) => alert.deviceId)).toEqual([tagged.id]);

    // Tagging the third device brings it into the rule's scope from its next sample on.
    await owner.fleet.device.setTags.mutate({ deviceId: untagged.id, tagIds: [db] });
    await untagged.agent.agent.push.mutate({ records: [fakeSampleRecord(3, t0 + 3000, 50)] });
    await h.server.drained();
    const now = (await owner.alerts.list.query({})).filter((alert) => alert.ruleId === rule.id).map((alert) => alert.deviceId).sort();
    expect(now).toEqual([tagged.id, untagged.id].sort());
  });
});
