import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTRPCUntypedClient, createWSClient, wsLink } from '@trpc/client';
import { WebSocket } from 'ws';
import { fakeSampleRecord, startHarness, type Harness } from '@ninjait/server/testing';
import {
  CREDENTIAL_REFUSAL_RECORD_INTERVAL_MS, createCredentialRefusalRecorder,
} from '@ninjait/server/domain/credential-refusals';
import type { SqlExecutor } from '@ninjait/server/stores/relational';
import { waitFor } from '../support/processes.ts';
import { createOrgFixture, engineVariants, type OrgFixture } from './support.ts';

/**
 * A device whose agent presents a secret the server refuses is shown so in the console (when,
 * from which address) to its own organization only; what an unauthenticated socket can make the
 * server write is bounded: one write per device per interval, a few per second per instance
 * whatever ids a flood names, nothing for unknown or retired devices; and the state ends once
 * the device reports with valid credentials again.
 */

const WRONG_SECRET = `nds_${'x'.repeat(40)}`;

describe.each(engineVariants())('refused device credentials ($name)', (engines) => {
  let h: Harness;
  let org: OrgFixture;
  let other: OrgFixture;
  const sockets: ReturnType<typeof createWSClient>[] = [];

  beforeAll(async () => {
    await engines.reset();
    h = await startHarness({ relational: engines.relational, cache: engines.cache, env: { RATE_LIMIT_MAX: '1000000', ...engines.env } });
    [org, other] = await Promise.all([createOrgFixture(h, 'Refused'), createOrgFixture(h, 'Other')]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all(sockets.map((socket) => socket.close()));
    await h?.stop();
    if (engines.cache === 'redis') await engines.reset();
  });

  /** One agent socket's first call with these credentials: the code it fails with, or 'OK'. */
  async function knock(deviceId: string, deviceSecret: string): Promise<string> {
    const socket = createWSClient({
      url: `${h.server.url.replace(/^http/, 'ws')}/trpc`, WebSocket: WebSocket as never,
      connectionParams: { deviceId, deviceSecret }, retryDelayMs: () => 60_000,
    });
    sockets.push(socket);
    const client = createTRPCUntypedClient({ links: [wsLink({ client: socket })] });
    try {
      await client.mutation('agent.heartbeat', { agentVersion: '0.1.0', intervalMs: 15_000, bufferedRecords: 0, bufferedBytes: 0, droppedTotal: 0 });
      return 'OK';
    } catch (error) {
      return (error as { data?: { code?: string } }).data?.code ?? 'TRANSPORT';
    } finally {
      await socket.close();
    }
  }
  const refusedColumns = async (deviceId: string) => (await h.server.services.db.query<{ since: Date | null; at: Date | null; from: string | null }>(
    `SELECT credentials_refused_since AS since, credentials_refused_at AS at, host(credentials_refused_from) AS "from" FROM devices WHERE id = $1`,
    [deviceId])).rows[0]!;
  const owner = (fixture: OrgFixture) => h.http({ authorization: `Bearer ${fixture.users.owner.session}` });

  it('shows a wrong secret for a known device on its page and in the list, with when and from where', async () => {
    const before = Date.now();
    expect(await knock(org.device.id, WRONG_SECRET)).toBe('UNAUTHORIZED');
    const refusal = await waitFor('the refusal to be recorded', async () => (await owner(org).devices.get.query({ id: org.device.id })).credentialsRefused, 10_000, 50);
    expect(refusal.from).toBe('127.0.0.1');
    expect(Date.parse(refusal.since)).toBeGreaterThanOrEqual(before - 1_000);
    expect(refusal.lastAt).toBe(refusal.since);
    const listed = (await owner(org).devices.list.query({})).items.find((item) => item.id === org.device.id);
    expect(listed?.credentialsRefused).toEqual(refusal);
    // Another organization sees neither the device nor its state.
    expect((await owner(other).devices.list.query({})).items.some((item) => item.id === org.device.id)).toBe(false);
    await expect(owner(other).devices.get.query({ id: org.device.id })).rejects.toMatchObject({ data: { code: 'NOT_FOUND' } });
    expect((await owner(other).devices.get.query({ id: other.device.id })).credentialsRefused).toBeNull();
  }, 30_000);

  it('writes a flood of wrong secrets for one device once per interval', async () => {
    const first = await refusedColumns(org.device.id);
    expect(first.at).not.toBeNull();
    const codes = await Promise.all(Array.from({ length: 60 }, () => knock(org.device.id, WRONG_SECRET)));
    expect(new Set(codes)).toEqual(new Set(['UNAUTHORIZED']));
    expect(await refusedColumns(org.device.id)).toEqual(first);
  }, 60_000);

  it('writes nothing for unknown or malformed device ids, and a flood of them leaves the server answering', async () => {
    const codes = await Promise.all(Array.from({ length: 60 }, () => knock(randomUUID(), WRONG_SECRET)));
    expect(new Set(codes)).toEqual(new Set(['UNAUTHORIZED']));
    expect(await knock('not-a-uuid', WRONG_SECRET)).toBe('UNAUTHORIZED');
    const { rows } = await h.server.services.db.query<{ n: number }>('SELECT count(*)::int AS n FROM devices WHERE credentials_refused_at IS NOT NULL');
    expect(rows[0]!.n).toBe(1);
    expect((await fetch(`${h.server.url}/healthz`)).status).toBe(200);
  }, 60_000);

  it('ends the state once the device reports with valid credentials, and starts a new streak after', async () => {
    const socket = createWSClient({
      url: `${h.server.url.replace(/^http/, 'ws')}/trpc`, WebSocket: WebSocket as never,
      connectionParams: { deviceId: org.device.id, deviceSecret: org.device.secret }, retryDelayMs: () => 60_000,
    });
    sockets.push(socket);
    const agent = createTRPCUntypedClient({ links: [wsLink({ client: socket })] });
    await agent.mutation('agent.push', { records: [fakeSampleRecord(1, Date.now())] });
    await h.server.drained();
    await waitFor('the refusal to end', async () => (await owner(org).devices.get.query({ id: org.device.id })).credentialsRefused === null || null, 10_000, 50);
    await socket.close();
    const previous = await refusedColumns(org.device.id);
    // The next refusal is a new streak, written at once though the interval has not passed.
    await h.server.services.db.query(`UPDATE devices SET credentials_refused_at = NOW() - interval '2 minutes' WHERE id = $1`, [org.device.id]);
    await h.server.services.db.query(`UPDATE devices SET last_seen = NOW() - interval '1 minute' WHERE id = $1`, [org.device.id]);
    const recorder = createCredentialRefusalRecorder(h.server.services.db, pino({ level: 'silent' }));
    recorder.record(org.device.id, '192.0.2.44');
    const next = await waitFor('a new streak', async () => {
      const row = await refusedColumns(org.device.id);
      return row.from === '192.0.2.44' ? row : null;
    }, 10_000, 50);
    expect(next.since!.getTime()).toBeGreaterThan(previous.since!.getTime());
    expect(next.since).toEqual(next.at);
  }, 30_000);

  it('one instance asks the database at most once per device per interval, and a few times a second whatever the ids', async () => {
    let queries = 0;
    const counted: SqlExecutor = { query: (sql, params) => { queries += 1; return h.server.services.db.query(sql, params); } };
    let now = 1_000_000;
    const recorder = createCredentialRefusalRecorder(counted, pino({ level: 'silent' }), () => now);
    // A write reaches the executor after the query builder's few awaits: let those run before counting.
    const started = () => new Promise((resolve) => setImmediate(resolve));
    for (let i = 0; i < 1_000; i += 1) recorder.record(other.device.id, '127.0.0.1');
    await started();
    expect(queries).toBe(1);
    for (let i = 0; i < 1_000; i += 1) recorder.record(randomUUID(), '127.0.0.1');
    await started();
    expect(queries).toBeLessThanOrEqual(10);
    now += CREDENTIAL_REFUSAL_RECORD_INTERVAL_MS;
    recorder.record(other.device.id, '127.0.0.1');
    await started();
    expect(queries).toBeLessThanOrEqual(11);
    // A junk address is stored as no address, never a failed statement.
    recorder.record(randomUUID(), 'not an address');
    await waitFor('the writes to settle', async () => {
      const row = await refusedColumns(other.device.id);
      return row.at ? row : null;
    }, 10_000, 50);
  }, 30_000);
});
