import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetricSample } from '@ninjait/shared';
import type { Services } from '../../app/services.ts';
import { createRateLimiter } from '../auth/rate-limit.ts';
import { createSessions } from '../auth/sessions.ts';
import { createOrganization } from '../organizations/organizations.ts';
import { createUser } from '../auth/users.ts';
import { createMetrics } from '../../platform/obs/metrics.ts';
import { createCacheSink } from '../ingest/sinks/cache-sink.ts';
import { invalidateDeviceLists } from '../../stores/cache/keys.ts';
import type { IngestRow } from '../ingest/sinks/types.ts';
import { createMemoryCache } from '../../stores/cache/index.ts';
import { migrate, openRelationalStore, type RelationalStore } from '../../stores/relational/index.ts';
import type { Context } from '../../platform/trpc/context.ts';
import { createAppRouter } from '../../app/router.ts';
import { createCallerGate } from '../../app/caller-gate.ts';
import { createAudit } from '../audit/index.ts';
import { createCallerFactory } from '../../platform/trpc/trpc.ts';
import type { CallerGate } from '../../platform/trpc/caller.ts';

const PASSWORD = 'correct horse battery staple';
/** The router the server would build from these services, called in-process. */
const callerFactoryFor = (services: Services) => createCallerFactory(createAppRouter(services));

/** The fleet table's procedures through the real router: PGlite rows, latest values and rankings from the cache sink. */
describe('devices.list, devices.counts and devices.topCpu', () => {
  let db: RelationalStore;
  let services: Services;
  let orgA: string;
  let orgB: string;
  let createCaller: ReturnType<typeof callerFactoryFor>;
  let gate: CallerGate;
  let api: ReturnType<typeof createCaller>;

  const caller = (sessionToken: string | null) => createCaller({
    gate, ip: '203.0.113.7', sessionToken, localAdminToken: null, device: null, deviceAuthError: null, setCookie: null, socket: null, secure: false,
  } as Context);

  async function addDevice(organizationId: string, name: string, status: string): Promise<string> {
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO devices (name, organization_id, status, os_type, last_seen) VALUES ($1, $2, $3, 'linux', NOW()) RETURNING id`, [name, organizationId, status]);
    return rows[0]!.id;
  }

  function sample(deviceId: string, organizationId: string, cpu: number): IngestRow & { kind: 'sample' } {
    const payload: MetricSample = {
      cpu: { loadPercent: cpu, perCorePercent: [cpu] },
      memory: { totalBytes: 100, usedBytes: 75, availableBytes: 25, swapTotalBytes: 0, swapUsedBytes: 0 },
      disks: [{ mount: '/', fs: '/dev/sda1', type: 'ext4', sizeBytes: 200, usedBytes: 50 }],
      network: [{ iface: 'eth0', rxBytes: 1, txBytes: 1, rxBytesPerSec: 10, txBytesPerSec: 5, rxErrors: 0, txErrors: 0 }],
      uptimeSec: 60,
    };
    return { id: 1, deviceId, organizationId, seq: 3, kind: 'sample', collectedAt: new Date('2026-11-25T12:00:00Z'), receivedAt: new Date(), sourceIp: null, payload };
  }

  beforeAll(async () => {
    db = await openRelationalStore({});
    await migrate(db);
    const cache = createMemoryCache();
    services = {
      log: pino({ level: 'silent' }), metrics: createMetrics(), db, cache, sessions: createSessions(cache),
      rateLimit: createRateLimiter(cache, { max: 1_000, windowSec: 900 }), agents: { isConnected: () => false },
    } as unknown as Services;
    // No documents store here: entries fail and are counted, as the audit writer does when its store is down.
    services.audit = createAudit(services);
    createCaller = callerFactoryFor(services);
    gate = createCallerGate(services);
    orgA = (await createOrganization(db, `A-${randomUUID()}`)).id;
    orgB = (await createOrganization(db, `B-${randomUUID()}`)).id;
    await createUser(db, { email: 'viewer@a.test', password: PASSWORD, role: 'viewer', organizationId: orgA });
    api = caller((await caller(null).auth.login({ email: 'viewer@a.test', password: PASSWORD })).sessionToken);
  });
  afterAll(() => db?.close());

  it('pages the fleet with the table numbers of each latest sample, and nothing of another organization', async () => {
    const busy = await addDevice(orgA, 'busy', 'online');
    const idle = await addDevice(orgA, 'idle', 'online');
    const quiet = await addDevice(orgA, 'quiet', 'offline');
    const foreign = await addDevice(orgB, 'foreign', 'online');
    const rows = [sample(busy, orgA, 90), sample(idle, orgA, 5), sample(quiet, orgA, 99), sample(foreign, orgB, 100)];
    expect(await createCacheSink(services.cache).write(rows, new AbortController().signal)).toEqual({ ok: true });

    const first = await api.devices.list({ limit: 2 });
    expect(first.total).toBe(3);
    expect(first.items.map((row) => row.name)).toEqual(['busy', 'idle']);
    expect(first.items[0]).toMatchObject({ status: 'online', osType: 'linux', lastSeen: expect.stringMatching(/Z$/) });
    expect(first.items[0]!.summary).toEqual({
      collectedAt: '2026-11-25T12:00:00.000Z', seq: 3, cpuPercent: 90, memoryPercent: 75, diskPercent: 25, diskUsedBytes: 50,
      rxBytesPerSec: 10, txBytesPerSec: 5, uptimeSec: 60,
    });
    expect(Object.keys(first.items[0]!)).not.toContain('inventory');
    const second = await api.devices.list({ limit: 2, cursor: first.nextCursor! });
    expect(second).toMatchObject({ total: 3, nextCursor: null });
    expect(second.items.map((row) => row.name)).toEqual(['quiet']);
    expect((await api.devices.list()).items.map((row) => row.name)).toEqual(['busy', 'idle', 'quiet']);
    expect((await api.devices.list({ status: 'offline' })).items.map((row) => row.name)).toEqual(['quiet']);
    expect((await api.devices.list({ deviceIds: [quiet, foreign, busy] })).items.map((row) => row.name)).toEqual(['busy', 'quiet']);

    expect(await api.devices.counts()).toEqual({ total: 3, byStatus: { online: 2, offline: 1, pending: 0 }, osTypes: ['linux'], awaitingApproval: 0 });
    // Highest CPU first, online devices of the caller's organization only.
    expect(await api.devices.topCpu()).toEqual([
      { deviceId: busy, name: 'busy', cpuPercent: 90 }, { deviceId: idle, name: 'idle', cpuPercent: 5 },
    ]);
  });

  it('counts from a short-lived cache that device changes drop', async () => {
    const before = await api.devices.counts();
    await addDevice(orgA, 'unseen', 'pending');
    // Cached: the new row is not counted yet, neither in the counts nor in the list's total.
    expect(await api.devices.counts()).toEqual(before);
    expect((await api.devices.list({ limit: 1 })).total).toBe(before.total);
    // Enrollment, inventory, the offline sweep and decommissioning drop it (see features/ingest/sinks/cache-sink.ts).
    await invalidateDeviceLists(services.cache, [orgA]);
    expect((await api.devices.counts()).byStatus.pending).toBe(before.byStatus.pending + 1);
    expect((await api.devices.list({ limit: 1 })).total).toBe(before.total + 1);
    // A search counts for itself.
    expect((await api.devices.list({ search: 'unsee' })).total).toBe(1);
  });

  it("feeds a device page's live values from that device alone, not by reading the fleet", async () => {
    const watched = await addDevice(orgA, 'watched', 'online');
    const queries: string[] = [];
    const spied = { ...services, db: { ...db, query: (sql: string, params?: unknown[]) => (queries.push(sql), db.query(sql, params)) } } as Services;
    const session = (await caller(null).auth.login({ email: 'viewer@a.test', password: PASSWORD })).sessionToken;
    const abort = new AbortController();
    const viewer = callerFactoryFor(spied)({ gate, ip: '203.0.113.7', sessionToken: session } as Context, { signal: abort.signal });
    const feed = await viewer.live.devices({ deviceId: watched });
    const first = await feed[Symbol.asyncIterator]().next();
    abort.abort();
    expect((first.value as { devices: { name: string }[] }).devices.map((device) => device.name)).toEqual(['watched']);
    const fleetReads = queries.filter((sql) => /FROM "?devices"?(\s|$)/i.test(sql));
    expect(fleetReads.length).toBeGreaterThan(0);
    expect(fleetReads.every((sql) => /AND ("d"\.)?"?id"? = \$2/i.test(sql))).toBe(true);
  });

  it('leaves the numbers empty for a device with no sample yet, and refuses page sizes past the maximum', async () => {
    await addDevice(orgA, 'new', 'pending');
    expect((await api.devices.list({ search: 'new' })).items.map((row) => [row.name, row.summary])).toEqual([['new', null]]);
    await expect(api.devices.list({ limit: 501 })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(api.devices.list({ sort: 'cpu' } as never)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });
});
