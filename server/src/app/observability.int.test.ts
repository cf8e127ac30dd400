import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetricSample } from '@ninjait/shared';
import type { Services } from './services.ts';
import { createRateLimiter } from '../features/auth/rate-limit.ts';
import { createSessions } from '../features/auth/sessions.ts';
import { createOrganization } from '../features/organizations/organizations.ts';
import { createUser } from '../features/auth/users.ts';
import { agentErrorLogs } from '../features/logs/index.ts';
import { createMetrics } from '../platform/obs/metrics.ts';
import { createCacheSink } from '../features/ingest/sinks/cache-sink.ts';
import { rawMetricRow } from '../features/ingest/sinks/clickhouse-sink.ts';
import type { IngestRow } from '../features/ingest/sinks/types.ts';
import { createChdbStore } from '../stores/analytics/chdb/chdb-store.ts';
import { migrateAnalytics, type AnalyticsStore } from '../stores/analytics/index.ts';
import { createMemoryCache } from '../stores/cache/index.ts';
import { createRelationalDocumentStore } from '../stores/documents/index.ts';
import { migrate, openRelationalStore, type RelationalStore } from '../stores/relational/index.ts';
import { createEmbeddedTimeSeriesStore } from '../stores/timeseries/index.ts';
import type { Context } from '../platform/trpc/context.ts';
import type { CallerGate } from '../platform/trpc/caller.ts';
import { createAppRouter } from './router.ts';
import { createCallerGate } from './caller-gate.ts';
import { createAudit } from '../features/audit/index.ts';
import { createCallerFactory } from '../platform/trpc/trpc.ts';

const PASSWORD = 'correct horse battery staple';
/** The router the server would build from these services, called in-process. */
const callerFactoryFor = (services: Services) => createCallerFactory(createAppRouter(services));

describe('audit, logs and metrics through the real tRPC router (PGlite, chdb, in-process cache)', () => {
  let dir: string;
  let db: RelationalStore;
  let analytics: AnalyticsStore;
  let services: Services;
  let orgA: string;
  let orgB: string;
  let ownerA: string;

  let createCaller: ReturnType<typeof callerFactoryFor>;
  let gate: CallerGate;
  const caller = (sessionToken: string | null, ip = '203.0.113.7') => createCaller({
    gate, ip, sessionToken, localAdminToken: null, device: null, deviceAuthError: null, setCookie: null, socket: null, secure: false,
  } as Context);
  const login = async (email: string) => (await caller(null).auth.login({ email, password: PASSWORD })).sessionToken;

  async function addDevice(organizationId: string, name: string, status = 'online'): Promise<string> {
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO devices (name, organization_id, status, last_seen) VALUES ($1, $2, $3, NOW()) RETURNING id`, [name, organizationId, status]);
    return rows[0]!.id;
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ninjait-obs-'));
    db = await openRelationalStore({});
    await migrate(db);
    analytics = createChdbStore(join(dir, 'chdb'));
    await migrateAnalytics(analytics);
    const cache = createMemoryCache();
    services = {
      log: pino({ level: 'silent' }), metrics: createMetrics(), db, cache, analytics,
      sessions: createSessions(cache),
      rateLimit: createRateLimiter(cache, { max: 1_000, windowSec: 900 }),
      documents: createRelationalDocumentStore(db),
      timeseries: createEmbeddedTimeSeriesStore(analytics),
      agents: { isConnected: () => false },
    } as unknown as Services;
    services.audit = createAudit(services);
    createCaller = callerFactoryFor(services);
    gate = createCallerGate(services);
    orgA = (await createOrganization(db, `A-${randomUUID()}`)).id;
    orgB = (await createOrganization(db, `B-${randomUUID()}`)).id;
    ownerA = (await createUser(db, { email: 'owner@a.test', password: PASSWORD, role: 'owner', organizationId: orgA })).id;
    await createUser(db, { email: 'admin@b.test', password: PASSWORD, role: 'admin', organizationId: orgB });
  });
  afterAll(async () => {
    await analytics?.close();
    await db?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('records every mutation a person makes, with who, what, resource, details and address, and no secrets', async () => {
    const session = await login('owner@a.test');
    const api = caller(session);
    const created = await api.tokens.create({ name: 'laptops', maxUses: 3 });
    await api.tokens.revoke({ id: created.record.id });
    const tech = await api.users.create({ email: 'tech@a.test', password: PASSWORD, role: 'technician' });
    await api.auth.logout();

    const audit = await caller(await login('owner@a.test')).audit.list({});
    const mine = audit.filter((entry) => entry.userId === ownerA);
    // Several can share a millisecond, so the order within it is not asserted here (the store suite checks ordering).
    expect(mine.map((entry) => entry.action).sort()).toEqual(['auth.login', 'auth.login', 'auth.logout', 'token.create', 'token.revoke', 'user.create']);
    const byAction = new Map(mine.map((entry) => [entry.action, entry]));
    expect(byAction.get('token.create')).toMatchObject({
      organizationId: orgA, resourceId: created.record.id, ipAddress: '203.0.113.7', details: { name: 'laptops', maxUses: 3 },
    });
    expect(byAction.get('user.create')).toMatchObject({ resourceId: tech.id, details: { email: 'tech@a.test', role: 'technician' } });
    const text = JSON.stringify(audit);
    expect(text).not.toContain(created.token);
    expect(text).not.toContain(PASSWORD);

    const filtered = await caller(await login('owner@a.test')).audit.list({ action: 'token.create', userId: ownerA });
    expect(filtered.map((entry) => entry.resourceId)).toEqual([created.record.id]);
  });

  it("scopes the audit log to the caller's organization and refuses viewers", async () => {
    const other = await caller(await login('admin@b.test')).audit.list({});
    expect(other.every((entry) => entry.organizationId === orgB)).toBe(true);
    expect(other.some((entry) => entry.action === 'token.create')).toBe(false);
    await createUser(db, { email: 'viewer@a.test', password: PASSWORD, role: 'viewer', organizationId: orgA });
    await expect(caller(await login('viewer@a.test')).audit.list({})).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(caller(await login('owner@a.test')).audit.list({ since: new Date(), until: new Date(Date.now() - 1) })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  it("answers logs.recentErrors with the organization's errors of the last hour, newest first", async () => {
    const device = await addDevice(orgA, 'pc-errors');
    const now = Date.now();
    await services.documents.logs.insert([
      ...agentErrorLogs({ deviceId: device, organizationId: orgA }, [
        { at: now - 5_000, code: 'COLLECT_FAILED', message: 'newest' },
        { at: now - 50_000, code: 'COLLECT_FAILED', message: 'older' },
        { at: now - 2 * 60 * 60 * 1000, code: 'COLLECT_FAILED', message: 'two hours ago' },
      ]),
      ...agentErrorLogs({ deviceId: randomUUID(), organizationId: orgB }, [{ at: now - 1_000, code: 'X', message: 'other org' }]),
    ]);
    const errors = await caller(await login('owner@a.test')).logs.recentErrors();
    expect(errors.map((entry) => entry.message)).toEqual(['newest', 'older']);
    expect(errors[0]).toMatchObject({ deviceId: device, level: 'error', error: { code: 'COLLECT_FAILED' } });
  });

  it('serves metrics.series from the raw table and NOT_FOUND for a foreign device', async () => {
    const device = await addDevice(orgA, 'pc-series');
    const foreign = await addDevice(orgB, 'pc-foreign');
    const at = Date.now() - 60_000;
    await analytics.insert('device_metrics_raw', [rawMetricRow(sampleRow(device, orgA, 1, at, 42, 5))]);
    const api = caller(await login('owner@a.test'));
    const series = await api.metrics.series({ deviceId: device, range: '1h' });
    expect(series.engine).toBe('embedded');
    expect(series.points).toHaveLength(1);
    expect(series.points[0]).toMatchObject({ cpu: 42 });
    await expect(api.metrics.series({ deviceId: foreign, range: '1h' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(api.metrics.series({ deviceId: device, range: '2y' as '1h' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('combines cache, time series and PostgreSQL in metrics.deviceDashboard, and ranks uptime', async () => {
    const fast = await addDevice(orgA, 'pc-fast');
    const slow = await addDevice(orgA, 'pc-slow');
    const foreign = await addDevice(orgB, 'pc-b');
    const at = Date.now() - 30_000;
    const rows = [sampleRow(fast, orgA, 1, at, 10, 9_000), sampleRow(slow, orgA, 1, at, 20, 100), sampleRow(foreign, orgB, 1, at, 30, 99_999)];
    expect(await createCacheSink(services.cache).write(rows, new AbortController().signal)).toEqual({ ok: true });
    await analytics.insert('device_metrics_raw', rows.map(rawMetricRow));

    const api = caller(await login('owner@a.test'));
    const dashboard = await api.metrics.deviceDashboard({ deviceId: fast, range: '1h' });
    expect(dashboard.device).toMatchObject({ id: fast, name: 'pc-fast', organizationId: orgA });
    expect(dashboard.latest).toMatchObject({ seq: 1, uptimeSec: 9_000 });
    expect(dashboard.history).toMatchObject({ engine: 'embedded', error: null });
    expect(dashboard.history.points?.[0]).toMatchObject({ cpu: 10 });

    const board = await api.metrics.uptimeLeaderboard();
    expect(board.map((entry) => [entry.name, entry.uptimeSec])).toEqual([['pc-fast', 9_000], ['pc-slow', 100]]);
    await expect(api.metrics.deviceDashboard({ deviceId: foreign })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

function sampleRow(deviceId: string, organizationId: string, seq: number, at: number, cpu: number, uptimeSec: number): IngestRow & { kind: 'sample' } {
  const payload: MetricSample = {
    cpu: { loadPercent: cpu, perCorePercent: [] },
    memory: { totalBytes: 100, usedBytes: 50, availableBytes: 50, swapTotalBytes: 0, swapUsedBytes: 0 },
    disks: [], network: [], uptimeSec,
  };
  return { id: seq, deviceId, organizationId, seq, kind: 'sample', collectedAt: new Date(at), receivedAt: new Date(), sourceIp: null, payload };
}
