import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patchWorkItemSchema, type InventoryReport, type PendingUpdate, type SoftwareItem } from '@ninjait/shared';
import { buildReport } from '@ninjait/agent/inventory';
import { cacheEngines, relationalEngines } from '../../../test-support/databases.ts';
import { codeOf, startHarness, type Harness } from '../../../test-support/harness.ts';
import { createTenant, wsClient, type Tenant } from '../../../test-support/command-fixtures.ts';
import { readLocalAdminToken } from '../auth/local-admin.ts';
import { getPolicy, savePolicy } from './patch-repository.ts';
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

  const send = (ws: ReturnType<typeof wsClient>, report: InventoryReport) => ws.client.agent.inventoryReport.mutate(report);

  beforeAll(async () => {
    h = await startHarness({ relational, cache, env: { RATE_LIMIT_MAX: '100000' } });
    const adminToken = (await readLocalAdminToken(h.dataDir))!;
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
});
