import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patchWorkItemSchema, type InventoryReport, type PendingUpdate, type SoftwareItem } from '@ninjait/shared';
import { buildReport } from '@ninjait/agent/inventory';
import { cacheEngines, relationalEngines } from '../../../test-support/databases.ts';
import { codeOf, startHarness, type Harness } from '../../../test-support/harness.ts';
import { createTenant, httpClient, wsClient, type Tenant } from '../../../test-support/command-fixtures.ts';
import { readLocalAdminToken } from '../auth/local-admin.ts';
import { LOCAL_ADMIN_HEADER } from '../../platform/trpc/context.ts';
import { getPolicy, savePolicy } from './policy-repository.ts';
import { patchPolicySchema } from './policy.ts';

const combos = [{ relational: 'pglite', cache: 'memory' }] as { relational: 'pglite' | 'postgres'; cache: 'memory' | 'redis' }[];
if (relationalEngines().includes('postgres') && cacheEngines().includes('redis')) combos.push({ relational: 'postgres', cache: 'redis' });

const pkg = (name: string, version: string): SoftwareItem => ({
  key: `dpkg:${name}:amd64`, name, version, arch: 'amd64', publisher: 'Debian', source: 'dpkg', installedAtMs: null,
});
const update = (name: string, from: string, to: string, classification: PendingUpdate['classification'] = 'security'): PendingUpdate => ({
  key: `apt:${name}:amd64`, name, currentVersion: from, availableVersion: to, source: 'apt', classification, severity: 'important', detail: 'test',
});
const snapshot = (software: SoftwareItem[], updates: PendingUpdate[] = []) => ({ software, services: [], updates, rebootPending: false, lastPatchedAtMs: null });

describe.each(combos)('software inventory and patching on $relational + $cache', ({ relational, cache }) => {
  let h: Harness;
  let x: Tenant;
  let y: Tenant;
  let device: { deviceId: string; deviceSecret: string };
  let other: { deviceId: string; deviceSecret: string };
  let agentWs: ReturnType<typeof wsClient>;
  let otherWs: ReturnType<typeof wsClient>;
  let base: { hash: string; snapshot: ReturnType<typeof snapshot> };
  let adminToken: string;

  const send = (ws: ReturnType<typeof wsClient>, report: InventoryReport) => ws.client.agent.inventoryReport.mutate(report);

  beforeAll(async () => {
    h = await startHarness({ relational, cache, env: { RATE_LIMIT_MAX: '100000' } });
    adminToken = (await readLocalAdminToken(h.dataDir))!;
    x = await createTenant(h.server.url, adminToken, 'Patch Org X');
    y = await createTenant(h.server.url, adminToken, 'Patch Org Y');
    device = await x.enroll('patch-x-1');
    other = await x.enroll('patch-x-2');
    agentWs = wsClient(h.server.url, device);
    otherWs = wsClient(h.server.url, other);
  }, 240_000);

  afterAll(async () => {
    await Promise.allSettled([agentWs?.close(), otherWs?.close()]);
    await h?.stop();
  });

  it('takes a full report, then diffs against the acked snapshot; an unknown base asks for everything', async () => {
    const first = snapshot([pkg('openssl', '3.0.11-1~deb12u2'), pkg('bash', '5.2.15-2+b8'), pkg('curl', '7.88.1-10')], [update('openssl', '3.0.11-1~deb12u2', '3.0.13-1~deb12u1')]);
    const full = buildReport(null, first, Date.now());
    expect(await send(agentWs, full)).toEqual({ accepted: true, hash: full.hash });
    base = { hash: full.hash, snapshot: first };

    const second = snapshot([pkg('openssl', '3.0.11-1~deb12u2'), pkg('bash', '5.2.15-2+b13'), pkg('jq', '1.6-2.1')], first.updates);
    const diff = buildReport(base, second, Date.now());
    expect(diff.software.upsert.map((item) => item.name).sort()).toEqual(['bash', 'jq']);
    expect(diff.software.remove).toEqual(['dpkg:curl:amd64']);
    expect(await send(agentWs, diff)).toMatchObject({ accepted: true });
    // A replay of the same diff is harmless.
    expect(await send(agentWs, diff)).toMatchObject({ accepted: true });
    base = { hash: diff.hash, snapshot: second };

    const third = snapshot([...second.software, pkg('vim', '2:9.0.1378-2')], second.updates);
    const stale = buildReport({ hash: 'f'.repeat(64), snapshot: second }, third, Date.now());
    expect(await send(agentWs, stale)).toEqual({ accepted: false, needFull: true });

    const { items } = await x.viewer.software.list.query({ deviceId: device.deviceId });
    expect(items.map((item) => `${item.name}=${item.version}`)).toEqual(['bash=5.2.15-2+b13', 'jq=1.6-2.1', 'openssl=3.0.11-1~deb12u2']);
  });

  it('answers "which devices have openssl older than X" with Debian version order', async () => {
    await send(otherWs, buildReport(null, snapshot([pkg('openssl', '3.0.13-1~deb12u1')]), Date.now()));
    const older = await x.viewer.software.search.query({ name: 'OpenSSL', olderThan: '3.0.13' });
    expect(older.map((row) => row.deviceId)).toEqual([device.deviceId]);
    expect(await x.viewer.software.search.query({ name: 'openssl' })).toHaveLength(2);
    // Another organization sees nothing of it.
    expect(await y.viewer.software.search.query({ name: 'openssl' })).toEqual([]);
    expect(await codeOf(y.viewer.software.list.query({ deviceId: device.deviceId }))).toBe('NOT_FOUND');
    expect(await codeOf(y.technician.patches.pending.query({ deviceId: device.deviceId }))).toBe('NOT_FOUND');
  });

  it('deploys an update: offered to the device, claimed once, a result per patch; compliance follows', async () => {
    const before = await x.viewer.patches.compliance.query();
    expect(before).toMatchObject({ reporting: 2, fullyPatched: 1 });
    expect(await codeOf(x.viewer.patches.deploy.mutate({ deviceIds: [device.deviceId], names: ['openssl'], schedule: 'now' }))).toBe('FORBIDDEN');
    expect(await codeOf(y.technician.patches.deploy.mutate({ deviceIds: [device.deviceId], names: ['openssl'], schedule: 'now' }))).toBe('NOT_FOUND');

    const { deployments } = await x.technician.patches.deploy.mutate({ deviceIds: [device.deviceId], names: ['openssl'], schedule: 'now', retries: 0 });
    expect(deployments).toHaveLength(1);
    const id = deployments[0]!;
    let work: Awaited<ReturnType<typeof agentWs.client.agent.patchWork.query>> = [];
    for (let i = 0; i < 100 && work.length === 0; i++) {
      work = await agentWs.client.agent.patchWork.query();
      if (work.length === 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // No policy saved: the default reboot policy travels with the work, in the shape agents parse.
    expect(work).toEqual([{
      id, patches: [{ key: 'apt:openssl:amd64', name: 'openssl', version: '3.0.13-1~deb12u1', source: 'apt' }],
      reboot: { policy: 'if_required', noticeMin: 15 },
    }]);
    expect(patchWorkItemSchema.parse(work[0])).toEqual(work[0]);
    // The other device cannot see, claim or answer for it.
    expect(await otherWs.client.agent.patchWork.query()).toEqual([]);
    expect(await otherWs.client.agent.patchStarted.mutate({ deploymentId: id })).toEqual({ run: false });
    expect(await agentWs.client.agent.patchStarted.mutate({ deploymentId: id })).toEqual({ run: true });
    expect(await agentWs.client.agent.patchStarted.mutate({ deploymentId: id })).toEqual({ run: false });
    await agentWs.client.agent.patchProgress.mutate({ deploymentId: id, lines: ['Unpacking openssl (3.0.13-1~deb12u1) ...'] });
    expect(await codeOf(otherWs.client.agent.patchResult.mutate({ deploymentId: id, results: [{ key: 'apt:openssl:amd64', status: 'installed', code: 0, message: '' }] }))).toBe('NOT_FOUND');
    await agentWs.client.agent.patchResult.mutate({ deploymentId: id, results: [{ key: 'apt:openssl:amd64', status: 'installed', code: 0, message: 'Now at 3.0.13-1~deb12u1' }] });
    const done = await x.viewer.patches.deployment.query({ id });
    expect(done).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(done.progress).toContain('Unpacking openssl');

    const next = snapshot([pkg('openssl', '3.0.13-1~deb12u1'), ...base.snapshot.software.filter((item) => item.name !== 'openssl')]);
    await send(agentWs, buildReport(base, next, Date.now()));
    expect(await x.viewer.patches.pending.query({ deviceId: device.deviceId })).toEqual([]);
    expect(await x.viewer.patches.compliance.query()).toMatchObject({ reporting: 2, fullyPatched: 2, percentPatched: 100 });
  });

  it('policy: admins only, validated; approval by rule shows on pending updates', async () => {
    expect(await codeOf(x.technician.patches.setPolicy.mutate({ approveClassifications: ['security'] }))).toBe('FORBIDDEN');
    await send(otherWs, buildReport(null, snapshot([pkg('openssl', '3.0.13-1~deb12u1')], [update('zlib1g', '1:1.2.13', '1:1.2.13.dfsg-1', 'other')]), Date.now()));
    const pending = await x.viewer.patches.pending.query({ deviceId: other.deviceId });
    expect(pending).toEqual([expect.objectContaining({ name: 'zlib1g', approved: false })]);
    await x.technician.patches.approve.mutate({ names: ['zlib1g'] });
    expect((await x.viewer.patches.pending.query({ deviceId: other.deviceId }))[0]?.approved).toBe(true);
  });

  it('the organization\'s reboot policy as it stands when offered travels with the work', async () => {
    await savePolicy(h.server.services.db, x.orgId, patchPolicySchema.parse({ reboot: 'always', rebootNoticeMin: 5 }));
    const { deployments } = await x.technician.patches.deploy.mutate({ deviceIds: [other.deviceId], names: ['zlib1g'], schedule: 'now', retries: 0 });
    let work: Awaited<ReturnType<typeof otherWs.client.agent.patchWork.query>> = [];
    for (let i = 0; i < 100 && work.length === 0; i++) {
      work = await otherWs.client.agent.patchWork.query();
      if (work.length === 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(work).toEqual([expect.objectContaining({ id: deployments[0], reboot: { policy: 'always', noticeMin: 5 } })]);
    // Organization Y keeps the default whatever X saved.
    expect((await getPolicy(h.server.services.db, y.orgId)).reboot).toBe('if_required');
  });

  it('policies attach to a site, group or tag; the most specific reaching a device wins, an exclusion falls through', async () => {
    const local = httpClient(h.server.url, { [LOCAL_ADMIN_HEADER]: adminToken });
    const email = `admin-${relational}@patch-org-x.test`;
    await local.admin.users.create.mutate({ org: x.orgId, email, password: 'correct horse battery staple', role: 'admin' });
    const admin = httpClient(h.server.url, { authorization: `Bearer ${(await httpClient(h.server.url).auth.login.mutate({ email, password: 'correct horse battery staple' })).sessionToken}` });
    const third = await x.enroll('patch-x-3');
    const stranger = await y.enroll('patch-y-1');
    const site = await admin.fleet.sites.create.mutate({ name: 'Paris' });
    const servers = await admin.fleet.tags.create.mutate({ name: 'servers' });
    const kiosks = await admin.fleet.tags.create.mutate({ name: 'kiosks' });
    const group = await admin.fleet.groups.create.mutate({ name: 'Kiosk fleet', filter: { conditions: [{ kind: 'tag', op: 'has', tagId: kiosks.id }] } });
    for (const id of [device.deviceId, other.deviceId, third.deviceId]) await admin.fleet.device.setSite.mutate({ deviceId: id, siteId: site.id });
    await admin.fleet.device.setTags.mutate({ deviceId: other.deviceId, tagIds: [servers.id] });
    await admin.fleet.device.setTags.mutate({ deviceId: third.deviceId, tagIds: [kiosks.id] });

    // The organization-wide policy (saved by the test before) says reboot always; narrower ones say otherwise.
    const sitePolicy = await admin.patches.policies.create.mutate({ name: 'Paris', scope: { kind: 'site', id: site.id }, reboot: 'never', rebootNoticeMin: 1 });
    const groupPolicy = await admin.patches.policies.create.mutate({ name: 'Kiosks (group)', scope: { kind: 'group', id: group.id }, reboot: 'if_required', rebootNoticeMin: 2 });
    // Years away (29 February): a deployment in this policy's window waits.
    const tagPolicy = await admin.patches.policies.create.mutate({
      name: 'Servers', scope: { kind: 'tag', id: servers.id }, reboot: 'if_required', rebootNoticeMin: 3, windowCron: '0 0 29 2 *',
      approveClassifications: ['other'],
    });
    const kioskTag = await admin.patches.policies.create.mutate({ name: 'Kiosks (tag)', scope: { kind: 'tag', id: kiosks.id }, excludedDeviceIds: [third.deviceId] });
    expect(kioskTag.excludedDeviceIds).toEqual([third.deviceId]);

    const under = async (deviceId: string) => (await x.viewer.patches.policies.effective.query({ deviceId })).source?.name ?? null;
    expect(await under(device.deviceId)).toBe('Paris');
    expect(await under(other.deviceId)).toBe('Servers');
    // Tagged kiosks but excluded from the tag's policy: the group's policy is next.
    expect(await under(third.deviceId)).toBe('Kiosks (group)');
    await admin.patches.policies.update.mutate({ id: kioskTag.id, name: 'Kiosks (tag)', excludedDeviceIds: [] });
    expect(await under(third.deviceId)).toBe('Kiosks (tag)');
    await admin.patches.policies.delete.mutate({ id: kioskTag.id });
    await admin.patches.policies.delete.mutate({ id: groupPolicy.id });
    expect(await under(third.deviceId)).toBe('Paris');
    await admin.fleet.device.setSite.mutate({ deviceId: third.deviceId, siteId: null });
    expect(await under(third.deviceId)).toBe('Default patch policy');

    // Approval follows the device's policy: the tag policy approves class "other" (zlib1g) for its device only.
    const pending = await x.viewer.patches.pending.query({});
    expect(pending.filter((row) => row.name === 'zlib1g')).toEqual([expect.objectContaining({ deviceId: other.deviceId, policyName: 'Servers' })]);
    // The device's policy's window: the tagged device waits for 29 February; the reboot policy offered is the tag's.
    const { deployments } = await x.technician.patches.deploy.mutate({ deviceIds: [other.deviceId], names: ['zlib1g'], schedule: 'window' });
    const waiting = await x.viewer.patches.deployment.query({ id: deployments[0]! });
    expect(new Date(waiting.notBefore).getUTCMonth()).toBe(1);
    expect(new Date(waiting.notBefore).getUTCDate()).toBe(29);
    await x.technician.patches.cancel.mutate({ id: deployments[0]! });
    const offered = await otherWs.client.agent.patchWork.query();
    expect(offered.map((item) => item.reboot)).toEqual(offered.map(() => ({ policy: 'if_required', noticeMin: 3 })));
    expect(offered.length).toBeGreaterThan(0);

    // Refusals: one policy per scope, admins only, nothing of another organization.
    expect(await codeOf(admin.patches.policies.create.mutate({ scope: { kind: 'site', id: site.id } }))).toBe('CONFLICT');
    expect(await codeOf(x.technician.patches.policies.create.mutate({ scope: { kind: 'tag', id: kiosks.id } }))).toBe('FORBIDDEN');
    expect(await codeOf(admin.patches.policies.create.mutate({ scope: { kind: 'tag', id: sitePolicy.id } }))).toBe('NOT_FOUND');
    expect(await codeOf(admin.patches.policies.create.mutate({ scope: { kind: 'tag', id: kiosks.id }, excludedDeviceIds: [stranger.deviceId] }))).toBe('NOT_FOUND');
    expect(await codeOf(admin.patches.policies.create.mutate({ scope: { kind: 'organization', id: site.id } }))).toBe('BAD_REQUEST');
    expect(await codeOf(y.viewer.patches.policies.effective.query({ deviceId: device.deviceId }))).toBe('NOT_FOUND');
    expect(await y.viewer.patches.policies.list.query()).toEqual([]);
    expect((await x.viewer.patches.policies.list.query()).map((p) => p.scopeKind)).toEqual(['organization', 'site', 'tag']);
    expect((await local.admin.patching.policies.list.query({ org: y.orgId })).policies).toEqual([]);

    // The CLI's way: by scope name, created then replaced whole; a foreign device name is not found.
    const byCli = await local.admin.patching.policies.set.mutate({ org: x.orgId, scope: 'tag:kiosks', exclude: [], policy: patchPolicySchema.parse({ name: 'Kiosks (CLI)' }) });
    expect(byCli).toMatchObject({ scopeKind: 'tag', scopeValue: kiosks.id, name: 'Kiosks (CLI)' });
    const replaced = await local.admin.patching.policies.set.mutate({ org: x.orgId, scope: 'tag:kiosks', exclude: ['host-patch-x-3'], policy: patchPolicySchema.parse({ reboot: 'never' }) });
    expect(replaced).toMatchObject({ id: byCli.id, name: 'Default patch policy', reboot: 'never', excludedDeviceIds: [third.deviceId] });
    expect(await codeOf(local.admin.patching.policies.set.mutate({ org: x.orgId, scope: 'tag:kiosks', exclude: ['host-patch-y-1'], policy: patchPolicySchema.parse({}) }))).toBe('NOT_FOUND');
    await local.admin.patching.policies.remove.mutate({ org: x.orgId, scope: 'tag:kiosks' });
    expect(await codeOf(local.admin.patching.policies.remove.mutate({ org: x.orgId, scope: 'tag:kiosks' }))).toBe('NOT_FOUND');
    expect((await local.admin.patching.policies.list.query({ org: x.orgId, device: other.deviceId })).effective?.source?.id).toBe(tagPolicy.id);
  });
});
