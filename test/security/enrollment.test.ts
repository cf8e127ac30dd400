import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTRPCUntypedClient, createWSClient, wsLink } from '@trpc/client';
import { WebSocket } from 'ws';
import { fakeInventory, startHarness, type Harness } from '../../server/src/testing/harness.ts';
import { waitFor } from '../support/processes.ts';
import { createOrgFixture, engineVariants, hasProcedure, httpCall, type OrgFixture, type Outcome } from './support.ts';

/**
 * Enrollment tokens and device secrets: a token that is expired, used up, revoked or guessed is
 * refused (UNAUTHORIZED) and writes nothing; attempts are rate-limited per address; a
 * decommissioned device is cut off at once; a rotated secret replaces the old one.
 */

const ENROLL_ATTEMPTS_PER_WINDOW = 30; // server/src/api/routers/agent.router.ts

const whenMissing = (path: string) => {
  const missing = !hasProcedure(path);
  if (missing) console.warn(`${path} does not exist yet: its security tests are skipped until it does`);
  return missing;
};

/** An agent's socket, with its close event observable. */
function agentSocket(h: Harness, deviceId: string, deviceSecret: string) {
  const closes: number[] = [];
  const socket = createWSClient({
    url: `${h.server.url.replace(/^http/, 'ws')}/trpc`, WebSocket: WebSocket as never,
    connectionParams: { deviceId, deviceSecret }, retryDelayMs: () => 60_000,
    onClose: (cause) => void closes.push(cause?.code ?? 0),
  });
  const client = createTRPCUntypedClient({ links: [wsLink({ client: socket })] });
  const heartbeat = () => client.mutation('agent.heartbeat', { agentVersion: '0.1.0', intervalMs: 15_000, bufferedRecords: 0, bufferedBytes: 0, droppedTotal: 0 })
    .then((data): Outcome => ({ ok: true, code: null, message: '', text: '', data }))
    .catch((error: { data?: { code?: string }; message: string }): Outcome => ({ ok: false, code: error.data?.code ?? 'TRANSPORT', message: error.message, text: '', data: null }));
  return { client, closes, heartbeat, close: () => socket.close() };
}

describe.each(engineVariants(12))('enrollment tokens and device secrets ($name)', (engines) => {
  let h: Harness;
  let org: OrgFixture;
  const sockets: { close(): Promise<void> }[] = [];
  const enroll = (token: string, machine = randomBytes(6).toString('hex')) =>
    httpCall(h.server.url, 'agent.enroll', 'mutation', { token, inventory: fakeInventory(machine) }, { kind: 'anonymous' });
  const deviceCount = async () => (await h.server.services.db.query<{ n: number }>('SELECT count(*)::int AS n FROM devices')).rows[0]!.n;
  const owner = () => h.http({ authorization: `Bearer ${org.users.owner.session}` });

  beforeAll(async () => {
    await engines.reset();
    h = await startHarness({ relational: engines.relational, cache: engines.cache, env: { RATE_LIMIT_MAX: '1000000', ...engines.env } });
    org = await createOrgFixture(h, 'Enroll');
  }, 120_000);
  afterAll(async () => {
    await Promise.all(sockets.map((socket) => socket.close()));
    await h?.stop();
  });

  it('refuses expired, used-up, revoked and guessed tokens, and writes nothing for them', async () => {
    const expired = await owner().tokens.create.mutate({ name: 'expired' });
    await h.server.services.db.query(`UPDATE enrollment_tokens SET expires_at = NOW() - interval '1 second' WHERE id = $1`, [expired.record.id]);
    const usedUp = await owner().tokens.create.mutate({ name: 'used up', maxUses: 1 });
    expect((await enroll(usedUp.token)).ok).toBe(true);
    const revoked = await owner().tokens.create.mutate({ name: 'revoked', maxUses: 10 });
    await owner().tokens.revoke.mutate({ id: revoked.record.id });
    const devices = await deviceCount();
    const cases: Record<string, string> = {
      expired: expired.token,
      'used up': usedUp.token,
      revoked: revoked.token,
      guessed: `nit_${randomBytes(32).toString('base64url')}`,
      'guessed, without the prefix': randomBytes(32).toString('base64url'),
      'one character off': `${usedUp.token.slice(0, -1)}${usedUp.token.endsWith('A') ? 'B' : 'A'}`,
    };
    for (const [label, token] of Object.entries(cases)) {
      const outcome = await enroll(token);
      expect(outcome.code, label).toBe('UNAUTHORIZED');
      expect(outcome.text, `${label}: the answer echoes the token`).not.toContain(token);
    }
    expect(await deviceCount()).toBe(devices);
    const { rows } = await h.server.services.db.query<{ uses: number }>('SELECT uses FROM enrollment_tokens WHERE id = ANY($1::uuid[]) ORDER BY name',
      [[expired.record.id, revoked.record.id]]);
    expect(rows.map((row) => row.uses)).toEqual([0, 0]);
  });

  it('gives the last uses of a token to exactly as many agents racing for them', async () => {
    const racing = await owner().tokens.create.mutate({ name: 'racing', maxUses: 3 });
    const devices = await deviceCount();
    const outcomes = await Promise.all(Array.from({ length: 10 }, () => enroll(racing.token)));
    expect(outcomes.filter((outcome) => outcome.ok)).toHaveLength(3);
    expect(outcomes.filter((outcome) => !outcome.ok).map((outcome) => outcome.code)).toEqual(Array(7).fill('UNAUTHORIZED'));
    expect(await deviceCount()).toBe(devices + 3);
    const { rows } = await h.server.services.db.query<{ uses: number }>('SELECT uses FROM enrollment_tokens WHERE id = $1', [racing.record.id]);
    expect(rows[0]!.uses).toBe(3);
  });

  it.skipIf(whenMissing('devices.decommission'))("closes a decommissioned device's socket at once and refuses its secret", async () => {
    const { token } = await owner().tokens.create.mutate({ name: 'decommission' });
    const device = (await enroll(token)).data as { deviceId: string; deviceSecret: string };
    const agent = agentSocket(h, device.deviceId, device.deviceSecret);
    sockets.push(agent);
    expect((await agent.heartbeat()).ok).toBe(true);
    const decommissionedAt = Date.now();
    await h.http({ authorization: `Bearer ${org.users.admin.session}` }).devices.decommission.mutate({ id: device.deviceId });
    await waitFor('the socket to close', async () => agent.closes.length > 0, 5_000, 20);
    console.info(`decommissioned device's socket closed ${Date.now() - decommissionedAt} ms after the call returned or sooner`);
    // Its secret no longer opens anything: a new socket, or the launcher's HTTP confirmation.
    const again = agentSocket(h, device.deviceId, device.deviceSecret);
    sockets.push(again);
    expect((await again.heartbeat()).code).toBe('UNAUTHORIZED');
    expect((await httpCall(h.server.url, 'updates.confirm', 'mutation', { deviceId: device.deviceId, deviceSecret: device.deviceSecret, version: '0.1.0' }, { kind: 'anonymous' })).code)
      .toBe('UNAUTHORIZED');
  });

  it.skipIf(whenMissing('agent.rotateSecret'))('rotates a device secret: the old one is refused on a new connection, the new one works', async () => {
    const { token } = await owner().tokens.create.mutate({ name: 'rotate' });
    const device = (await enroll(token)).data as { deviceId: string; deviceSecret: string };
    const agent = agentSocket(h, device.deviceId, device.deviceSecret);
    sockets.push(agent);
    const { deviceSecret } = await agent.client.mutation('agent.rotateSecret', undefined) as { deviceSecret: string };
    expect(deviceSecret).not.toBe(device.deviceSecret);
    const withOld = agentSocket(h, device.deviceId, device.deviceSecret);
    const withNew = agentSocket(h, device.deviceId, deviceSecret);
    sockets.push(withOld, withNew);
    expect((await withOld.heartbeat()).code).toBe('UNAUTHORIZED');
    expect((await withNew.heartbeat()).ok).toBe(true);
  });

  // Last: it spends this address's enrollment attempts for the window.
  it('rate-limits enrollment attempts per address, valid token or not', async () => {
    const valid = await owner().tokens.create.mutate({ name: 'after the limit', maxUses: 5 });
    const { rows } = await h.server.services.db.query<{ n: number }>('SELECT count(*)::int AS n FROM enrollment_tokens');
    expect(rows[0]!.n).toBeGreaterThan(0);
    const codes: (string | null)[] = [];
    for (let i = 0; i < ENROLL_ATTEMPTS_PER_WINDOW + 2; i++) codes.push((await enroll(`nit_${randomBytes(32).toString('base64url')}`)).code);
    expect(codes.at(-1)).toBe('TOO_MANY_REQUESTS');
    expect(codes.filter((code) => code === 'UNAUTHORIZED').length).toBeLessThanOrEqual(ENROLL_ATTEMPTS_PER_WINDOW);
    // Past the limit even a valid token is refused, and is not spent.
    expect((await enroll(valid.token)).code).toBe('TOO_MANY_REQUESTS');
    const uses = await h.server.services.db.query<{ uses: number }>('SELECT uses FROM enrollment_tokens WHERE id = $1', [valid.record.id]);
    expect(uses.rows[0]!.uses).toBe(0);
  });
});
