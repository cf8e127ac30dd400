import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAgent, type RunningAgent } from '@ninjait/agent';
import { memoryLogger } from '@ninjait/agent/testing';
import { readLocalAdminToken } from '@ninjait/server';
import { cacheEngines, relationalEngines, startHarness, type Harness } from '@ninjait/server/testing';
import { createTenant, type Tenant } from '@ninjait/server/testing/commands';
import { aptTestRefusal, createAptWorld } from './debian-apt.ts';
import { releasePackageLock, waitForPackageLock } from '../support/system-package.ts';

/**
 * Patching for real on this Debian machine: two versions of small packages built with dpkg-deb,
 * v1 installed, v2 served from a file:// apt repository; the real agent reports v2 pending, a
 * deployment installs it through apt, the agent reports it installed and the compliance report
 * changes. A v2 whose postinst exits 1 is reported failed with apt's exit code.
 */
const refusal = await aptTestRefusal();
if (refusal) console.log(`skipped: the real apt patching test needs root and dpkg/apt (${refusal})`);

const combos = [{ relational: 'pglite', cache: 'memory' }] as { relational: 'pglite' | 'postgres'; cache: 'memory' | 'redis' }[];
if (relationalEngines().includes('postgres') && cacheEngines().includes('redis')) combos.push({ relational: 'postgres', cache: 'redis' });

const GOOD = 'ninjait-patchtest-good';
const BAD = 'ninjait-patchtest-bad';

const waitFor = async <T>(what: string, check: () => Promise<T | null | undefined | false>, timeoutMs = 120_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
};

/** The installers test (beside the main suite in npm test) runs dpkg on this machine too: one at a time. */
const PACKAGE_LOCK_WAIT_MS = 10 * 60_000;
beforeAll(async () => {
  if (refusal === null && !(await waitForPackageLock(PACKAGE_LOCK_WAIT_MS))) {
    throw new Error('another test has been installing packages on this machine for 10 minutes (/run/lock/ninjait-agent-package-test)');
  }
}, PACKAGE_LOCK_WAIT_MS + 10_000);
afterAll(() => {
  if (refusal === null) releasePackageLock();
});

describe.skipIf(refusal !== null).each(combos)('patching a Debian machine for real on $relational + $cache', ({ relational, cache }) => {
  let h: Harness;
  let x: Tenant;
  let world: Awaited<ReturnType<typeof createAptWorld>>;
  let agent: RunningAgent | undefined;
  let agentDir: string;
  let deviceId: string;

  beforeAll(async () => {
    world = await createAptWorld();
    await world.install({ name: GOOD, version: '1.0-1' });
    await world.install({ name: BAD, version: '1.0-1' });
    await world.publish([{ name: GOOD, version: '2.0-1' }, { name: BAD, version: '2.0-1', postinstExit: 1 }]);
    h = await startHarness({ relational, cache, env: { RATE_LIMIT_MAX: '100000' } });
    x = await createTenant(h.server.url, (await readLocalAdminToken(h.dataDir))!, `Apt ${relational}`);
    const device = await x.enroll(`apt-${relational}-${process.pid}`);
    deviceId = device.deviceId;
    agentDir = await mkdtemp(join(tmpdir(), 'ninjait-apt-agent-'));
    agent = runAgent({
      config: { server: h.server.url, deviceId, organizationId: x.orgId, deviceSecret: device.deviceSecret, intervalMs: 30_000, enrolledAt: Date.now() },
      outboxFile: join(agentDir, 'outbox.db'),
      log: memoryLogger('silent').log,
      software: { aptOptions: world.aptOptions, startDelayMs: 0, patchPollMs: 500, changeCheckMs: 1_000 },
    });
  }, 300_000);

  afterAll(async () => {
    await agent?.stop();
    await h?.stop();
    await world?.cleanup();
    if (agentDir) await rm(agentDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  }, 120_000);

  it('the agent reports what is installed and v2 pending from the repository', async () => {
    const pending = await waitFor('v2 reported pending', async () => {
      const updates = await x.viewer.patches.pending.query({ deviceId });
      return updates.some((update) => update.name === GOOD) && updates.some((update) => update.name === BAD) ? updates : null;
    });
    expect(pending.find((update) => update.name === GOOD)).toMatchObject({ currentVersion: '1.0-1', availableVersion: '2.0-1', source: 'apt' });
    const { items } = await x.viewer.software.list.query({ deviceId, search: 'ninjait-patchtest' });
    expect(items.map((item) => `${item.name}=${item.version}`)).toEqual([`${BAD}=1.0-1`, `${GOOD}=1.0-1`]);
    expect((await x.viewer.software.search.query({ name: GOOD, olderThan: '2.0-1' })).map((row) => row.deviceId)).toEqual([deviceId]);
  }, 180_000);

  it('a deployment installs v2 through apt; the agent reports it installed and compliance changes', async () => {
    const before = await x.viewer.patches.compliance.query();
    const pendingBefore = before.perDevice.find((row) => row.deviceId === deviceId)!.pending;
    const { deployments } = await x.technician.patches.deploy.mutate({ deviceIds: [deviceId], names: [GOOD], schedule: 'now', retries: 0 });
    const done = await waitFor('the deployment to finish', async () => {
      const deployment = await x.viewer.patches.deployment.query({ id: deployments[0]! });
      return ['succeeded', 'failed'].includes(deployment.status) ? deployment : null;
    });
    expect(done.status).toBe('succeeded');
    expect(done.results).toEqual([expect.objectContaining({ key: `apt:${GOOD}:all`, status: 'installed', code: 0 })]);
    expect(done.progress).toContain(GOOD);
    expect(await world.version(GOOD)).toBe('2.0-1');
    await waitFor('the new version reported', async () => {
      const { items } = await x.viewer.software.list.query({ deviceId, search: GOOD });
      return items[0]?.version === '2.0-1';
    });
    const after = await waitFor('compliance to change', async () => {
      const report = await x.viewer.patches.compliance.query();
      const row = report.perDevice.find((entry) => entry.deviceId === deviceId)!;
      return row.pending < pendingBefore ? row : null;
    });
    expect(after.pending).toBe(pendingBefore - 1);
  }, 240_000);

  it('a package whose maintainer script exits 1 is reported failed with the package manager code', async () => {
    const { deployments } = await x.technician.patches.deploy.mutate({ deviceIds: [deviceId], names: [BAD], schedule: 'now', retries: 0 });
    const done = await waitFor('the deployment to finish', async () => {
      const deployment = await x.viewer.patches.deployment.query({ id: deployments[0]! });
      return ['succeeded', 'failed'].includes(deployment.status) ? deployment : null;
    });
    expect(done.status).toBe('failed');
    const [result] = done.results;
    expect(result).toMatchObject({ key: `apt:${BAD}:all`, status: 'failed', code: 100 });
    expect(result!.message).toMatch(/post-installation script|postinst/);
    expect(done.error).toContain('code 100');
  }, 240_000);
});
