import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRPCClientError } from '@trpc/client';
import { cacheEngines, relationalEngines } from '../../test-support/databases.ts';
import { codeOf, fakeInventory, fakeSampleRecord, startHarness, type Client, type Harness } from '../../test-support/harness.ts';
import { markQuietDevicesOffline } from '../features/devices/offline-sweeper.ts';

const combos = relationalEngines().flatMap((relational) => cacheEngines().map((cache) => ({ relational, cache })))
  // Every relational engine once with its matching cache keeps the file fast; the cross pairs add nothing.
  .filter(({ relational, cache }) => (relational === 'postgres') === (cache === 'redis') || cacheEngines().length === 1 || relationalEngines().length === 1);


describe.each(combos)('foundation on $relational + $cache', ({ relational, cache }) => {
  let h: Harness;
  let orgA: string;
  let orgB: string;
  let owner: Client;
  let ownerB: Client;

  const countRows = async (sql: string, params: unknown[] = []) =>
    (await h.server.services.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`, params)).rows[0]!.n;

  beforeAll(async () => {
    h = await startHarness({ relational, cache, env: { RATE_LIMIT_MAX: '1000', RATE_LIMIT_READ_MAX: '100000' } });
    orgA = (await h.admin.admin.organizations.create.mutate({ name: 'Org A' })).id;
    orgB = (await h.admin.admin.organizations.create.mutate({ name: 'Org B' })).id;
    await h.admin.admin.users.create.mutate({ org: orgA, email: 'owner@a.test', password: 'correct horse battery', role: 'owner' });
    await h.admin.admin.users.create.mutate({ org: 'Org B', email: 'owner@b.test', password: 'correct horse battery', role: 'owner' });
    const login = async (email: string) =>
      h.http({ authorization: `Bearer ${(await h.http().auth.login.mutate({ email, password: 'correct horse battery' })).sessionToken}` });
    owner = await login('owner@a.test');
    ownerB = await login('owner@b.test');
  });
  afterAll(() => h?.stop());

  it('enrolls with a token, reuses the record for the same machine proving its secret, and refuses bad tokens writing nothing', async () => {
    const { token } = await owner.tokens.create.mutate({ name: 'two uses', maxUses: 2 });
    const first = await h.http().agent.enroll.mutate({ token, inventory: fakeInventory('machine-1') });
    const again = await h.http().agent.enroll.mutate({
      token, inventory: fakeInventory('machine-1'), currentCredentials: { deviceId: first.deviceId, deviceSecret: first.deviceSecret },
    });
    expect(again.deviceId).toBe(first.deviceId);
    expect(again.reused).toBe(true);
    expect(again.status).toBe('active');
    expect(again.deviceSecret).not.toBe(first.deviceSecret);
    expect(first.organizationId).toBe(orgA);

    const devicesBefore = await countRows('devices');
    expect(await codeOf(h.http().agent.enroll.mutate({ token, inventory: fakeInventory('machine-2') }))).toBe('UNAUTHORIZED');
    expect(await codeOf(h.http().agent.enroll.mutate({ token: 'nit_guessed-guessed-guessed', inventory: fakeInventory('m3') }))).toBe('UNAUTHORIZED');
    const revoked = await owner.tokens.create.mutate({});
    await owner.tokens.revoke.mutate({ id: revoked.record.id });
    expect(await codeOf(h.http().agent.enroll.mutate({ token: revoked.token, inventory: fakeInventory('m4') }))).toBe('UNAUTHORIZED');
    const expiring = await owner.tokens.create.mutate({ expiresInSec: 60 });
    await h.server.services.db.query(`UPDATE enrollment_tokens SET expires_at = NOW() - interval '1 second' WHERE id = $1`, [expiring.record.id]);
    expect(await codeOf(h.http().agent.enroll.mutate({ token: expiring.token, inventory: fakeInventory('m5') }))).toBe('UNAUTHORIZED');
    expect(await countRows('devices')).toBe(devicesBefore);
  });

  it('rejects malformed input with BAD_REQUEST and field messages', async () => {
    const { token } = await owner.tokens.create.mutate({});
    const bad = { token, inventory: { ...fakeInventory('x'), extra: true } } as never;
    const error = await h.http().agent.enroll.mutate(bad).catch((e: unknown) => e as TRPCClientError<never>);
    expect((error as TRPCClientError<never>).data).toMatchObject({ code: 'BAD_REQUEST' });
    expect(JSON.stringify((error as TRPCClientError<never>).data)).toMatch(/extra|Unrecognized/i);
    expect(await codeOf(owner.tokens.create.mutate({ maxUses: 0 }))).toBe('BAD_REQUEST');
  });

  it('logs pushes durably, filters replays, acks the highest sequence, and drains to devices and cache', async () => {
    const { token } = await owner.tokens.create.mutate({});
    const device = await h.http().agent.enroll.mutate({ token, inventory: fakeInventory('ingest-machine') });
    const agent = h.ws({ deviceId: device.deviceId, deviceSecret: device.deviceSecret });
    expect(device.nextSeq).toBe(1);

    const batch = Array.from({ length: 50 }, (_, i) => fakeSampleRecord(i + 1, Date.now() - (50 - i) * 1000, i));
    expect(await agent.agent.push.mutate({ records: batch })).toEqual({ ackSeq: 50 });
    // A replay of the same batch plus new records: only the new ones are logged.
    const replay = [...batch.slice(40), fakeSampleRecord(51), fakeSampleRecord(52)];
    expect(await agent.agent.push.mutate({ records: replay })).toEqual({ ackSeq: 52 });
    // Concurrent pushes from several devices commit and ack independently.
    expect(await countRows('ingest_log WHERE device_id = $1', [device.deviceId])).toBe(52);
    const seqs = (await h.server.services.db.query<{ seq: number }>('SELECT seq FROM ingest_log WHERE device_id = $1 ORDER BY seq', [device.deviceId])).rows.map((r) => r.seq);
    expect(seqs).toEqual(Array.from({ length: 52 }, (_, i) => i + 1));

    await h.server.drained();
    const row = await owner.devices.get.query({ id: device.deviceId });
    expect(row.status).toBe('online');
    expect(row.ipAddress).toBe('127.0.0.1');
    expect(row.osType).toBe('linux');
    expect(row.connected).toBe(true);
    expect(row.latest).toMatchObject({ seq: 52, cpu: { loadPercent: 12.5 } });
    const heartbeat = await agent.agent.heartbeat.mutate({ agentVersion: '0.1.0', intervalMs: 1000, bufferedRecords: 0, bufferedBytes: 0, droppedTotal: 3, errors: [] });
    expect(heartbeat.ackSeq).toBe(52);
    const metrics = await (await fetch(`${h.server.url}/metrics`)).text();
    expect(metrics).toMatch(/ninjait_records_ingested_total\{kind="sample"\} 52/);
    expect(metrics).toMatch(/ninjait_records_replayed_total 10/);
    expect(metrics).toMatch(/ninjait_agent_dropped_records_total 3/);
    expect(metrics).toMatch(/ninjait_connected_agents 1/);

    // Same settings again: answered from the connection's state, still with the pushes acked since.
    expect(await agent.agent.push.mutate({ records: [fakeSampleRecord(53)] })).toEqual({ ackSeq: 53 });
    const steady = { agentVersion: '0.1.0', intervalMs: 1000, bufferedRecords: 0, bufferedBytes: 0, droppedTotal: 3, errors: [] };
    expect((await agent.agent.heartbeat.mutate(steady)).ackSeq).toBe(53);
    // A change on the same connection still reaches the database and the counter.
    expect((await agent.agent.heartbeat.mutate({ ...steady, droppedTotal: 5, agentVersion: '0.1.1' })).ackSeq).toBe(53);
    const { rows: [stored] } = await h.server.services.db.query<{ dropped: number; version: string }>(
      'SELECT dropped_total AS dropped, agent_version AS version FROM devices WHERE id = $1', [device.deviceId]);
    expect(stored).toEqual({ dropped: 5, version: '0.1.1' });
    expect(await (await fetch(`${h.server.url}/metrics`)).text()).toMatch(/ninjait_agent_dropped_records_total 5/);
  });

  it('commits concurrent pushes from many devices together, each acked with its own sequence', async () => {
    const { token } = await owner.tokens.create.mutate({ maxUses: 20 });
    const devices = await Promise.all(Array.from({ length: 20 }, (_, i) => h.http().agent.enroll.mutate({ token, inventory: fakeInventory(`bulk-${i}`) })));
    const acks = await Promise.all(devices.map((device, i) =>
      h.ws({ deviceId: device.deviceId, deviceSecret: device.deviceSecret }).agent.push.mutate({ records: Array.from({ length: i + 1 }, (_, j) => fakeSampleRecord(j + 1)) })));
    expect(acks.map((ack) => ack.ackSeq)).toEqual(devices.map((_, i) => i + 1));
  });

  it('refuses agents with wrong credentials and oversized or malformed batches, writing nothing', async () => {
    const { token } = await owner.tokens.create.mutate({});
    const device = await h.http().agent.enroll.mutate({ token, inventory: fakeInventory('strict-machine') });
    // This device's rows: the whole log's count also moved with other tests' devices under a loaded run.
    const ofDevice = () => countRows('ingest_log WHERE device_id = $1', [device.deviceId]);
    const before = await ofDevice();
    const impostor = h.ws({ deviceId: device.deviceId, deviceSecret: 'nds_wrong-wrong-wrong-wrong' });
    expect(await codeOf(impostor.agent.push.mutate({ records: [fakeSampleRecord(1)] }))).toBe('UNAUTHORIZED');
    expect(await codeOf(h.http().agent.push.mutate({ records: [fakeSampleRecord(1)] }))).toBe('UNAUTHORIZED');
    const agent = h.ws({ deviceId: device.deviceId, deviceSecret: device.deviceSecret });
    expect(await codeOf(agent.agent.push.mutate({ records: Array.from({ length: 1001 }, (_, i) => fakeSampleRecord(i + 1)) }))).toBe('BAD_REQUEST');
    const negative = { ...fakeSampleRecord(1), sample: { ...fakeSampleRecord(1).sample, cpu: { loadPercent: 250, perCorePercent: [] } } };
    expect(await codeOf(agent.agent.push.mutate({ records: [negative] }))).toBe('BAD_REQUEST');
    expect(await codeOf(agent.agent.push.mutate({ records: [{ ...fakeSampleRecord(1), secret: 'x' } as never] }))).toBe('BAD_REQUEST');
    expect(await ofDevice()).toBe(0);
    expect(before).toBe(0);
  });

  it('scopes people to their organization: foreign ids are NOT_FOUND, roles are enforced', async () => {
    const { token } = await owner.tokens.create.mutate({});
    const device = await h.http().agent.enroll.mutate({ token, inventory: fakeInventory('tenant-machine') });
    expect(await codeOf(ownerB.devices.get.query({ id: device.deviceId }))).toBe('NOT_FOUND');
    expect((await ownerB.devices.list.query()).items.some((d) => d.id === device.deviceId)).toBe(false);
    const tokenA = (await owner.tokens.list.query())[0]!;
    expect(await codeOf(ownerB.tokens.revoke.mutate({ id: tokenA.id }))).toBe('NOT_FOUND');
    expect((await owner.tokens.list.query())[0]!.revokedAt).toBeNull();

    await owner.users.create.mutate({ email: 'viewer@a.test', password: 'viewer password 1', role: 'viewer' });
    const viewerLogin = await h.http().auth.login.mutate({ email: 'viewer@a.test', password: 'viewer password 1' });
    const viewer = h.http({ authorization: `Bearer ${viewerLogin.sessionToken}` });
    expect((await viewer.devices.list.query()).total).toBeGreaterThan(0);
    expect(await codeOf(viewer.tokens.create.mutate({}))).toBe('FORBIDDEN');
    expect(await codeOf(viewer.users.create.mutate({ email: 'x@a.test', password: 'long enough pass', role: 'owner' }))).toBe('FORBIDDEN');
    await viewer.auth.logout.mutate();
    expect(await codeOf(viewer.devices.list.query())).toBe('UNAUTHORIZED');
    expect(await codeOf(h.http().devices.list.query())).toBe('UNAUTHORIZED');
    expect(await codeOf(h.http().auth.login.mutate({ email: 'owner@a.test', password: 'wrong' }))).toBe('UNAUTHORIZED');
    expect(orgB).not.toBe(orgA);
  });

  it('marks devices offline after three missed intervals', async () => {
    const { token } = await owner.tokens.create.mutate({});
    const device = await h.http().agent.enroll.mutate({ token, inventory: fakeInventory('quiet-machine') });
    await h.server.services.db.query(`UPDATE devices SET status = 'online', report_interval_ms = 1000, last_seen = NOW() - interval '4 seconds' WHERE id = $1`, [device.deviceId]);
    const offline = await markQuietDevicesOffline(h.server.services.db);
    expect(offline.map((d) => d.id)).toContain(device.deviceId);
    expect((await owner.devices.get.query({ id: device.deviceId })).status).toBe('offline');
  });

  it('serves health, readiness and metrics', async () => {
    expect((await fetch(`${h.server.url}/healthz`)).status).toBe(200);
    const ready = await (await fetch(`${h.server.url}/readyz`)).json();
    expect(ready).toMatchObject({ ready: true, stores: { relational: { ok: true, engine: relational }, cache: { ok: true, engine: cache } } });
  });
});

describe('rate limits', () => {
  it('returns TOO_MANY_REQUESTS past the configured limits per user and endpoint, reads and writes apart', async () => {
    const h = await startHarness({ relational: 'pglite', cache: 'memory', env: { RATE_LIMIT_MAX: '2', RATE_LIMIT_READ_MAX: '3' } });
    try {
      const org = await h.admin.admin.organizations.create.mutate({ name: 'Limited' });
      await h.admin.admin.users.create.mutate({ org: org.id, email: 'busy@a.test', password: 'correct horse battery', role: 'admin' });
      const { sessionToken } = await h.http().auth.login.mutate({ email: 'busy@a.test', password: 'correct horse battery' });
      const user = h.http({ authorization: `Bearer ${sessionToken}` });
      for (let i = 0; i < 3; i++) await user.devices.list.query();
      expect(await codeOf(user.devices.list.query())).toBe('TOO_MANY_REQUESTS');
      // Another endpoint has its own budget; mutations have the smaller one.
      expect(await user.tokens.list.query()).toEqual([]);
      await user.tokens.create.mutate({});
      await user.tokens.create.mutate({});
      expect(await codeOf(user.tokens.create.mutate({}))).toBe('TOO_MANY_REQUESTS');
    } finally {
      await h.stop();
    }
  }, 120_000); // a harness of its own: PGlite's first start is slow on a loaded machine
});
