import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTRPCUntypedClient, createWSClient, wsLink } from '@trpc/client';
import { WebSocket } from 'ws';
import { codeOf, fakeInventory, fakeSampleRecord, startHarness, type Harness } from '@ninjait/server/testing';
import { waitFor } from '../support/processes.ts';
import { createOrgFixture, engineVariants, hasProcedure, httpCall, httpCallFrom, procedures, type EngineVariant, type OrgFixture, type Outcome } from './support.ts';

/**
 * Enrollment tokens and device secrets: a token that is expired, used up, revoked or guessed is
 * refused (UNAUTHORIZED) and writes nothing; attempts are rate-limited per address; a
 * decommissioned device is cut off at once; a rotated secret replaces the old one. A machine
 * key is not an identity: enrolling a known machine without its current secret makes a pending
 * device of its own that no command reaches until an admin decides; people never see the key.
 */

interface Enrolled { deviceId: string; deviceSecret: string; nextSeq: number; reused: boolean; status?: string }
interface AuditRow { action: string; user_id: string | null; resource_id: string | null; doc: { details: Record<string, unknown>; ipAddress: string | null } }
const fingerprint = (key: string) => createHash('sha256').update(key).digest('hex').slice(0, 12);
/** A hostname that does not spell the machine key, so a leak of the key is not mistaken for the name. */
const hostOf = (machine: string) => `pc-${createHash('sha1').update(machine).digest('hex').slice(0, 8)}`;

const ENROLL_ATTEMPTS_PER_WINDOW = 30; // ENROLL_ATTEMPTS_PER_ADDRESS, server/src/features/enrollment/enrollment-limit.ts

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
  /** Every message the server sends on this device's `agent.commands` subscription. */
  const received: { type: string; id?: string; command?: { id: string } }[] = [];
  const watchCommands = () => client.subscription('agent.commands', undefined, {
    onData: (message: unknown) => void received.push(message as (typeof received)[number]),
    onError: () => undefined,
  });
  const heartbeat = () => client.mutation('agent.heartbeat', { agentVersion: '0.1.0', intervalMs: 15_000, bufferedRecords: 0, bufferedBytes: 0, droppedTotal: 0 })
    .then((data): Outcome => ({ ok: true, code: null, message: '', text: '', data }))
    .catch((error: { data?: { code?: string }; message: string }): Outcome => ({ ok: false, code: error.data?.code ?? 'TRANSPORT', message: error.message, text: '', data: null }));
  return { client, closes, heartbeat, received, watchCommands, close: () => socket.close() };
}

/** A source address of its own for each block: enrollment attempts are limited per address. */
let lastAddress = 0;
const nextAddress = () => {
  lastAddress++;
  return `127.${(process.pid >> 8) & 0xff}.${process.pid & 0xff}.${lastAddress}`;
};

/**
 * The server of one engine variant, started once for all its blocks (a start is most of a
 * block's time), and stopped after them.
 */
function serverOfVariant(engines: EngineVariant) {
  const t = {} as { h: Harness };
  beforeAll(async () => {
    await engines.reset();
    t.h = await startHarness({ relational: engines.relational, cache: engines.cache, env: { RATE_LIMIT_MAX: '1000000', ...engines.env } });
  }, 120_000);
  afterAll(async () => {
    await t.h?.stop();
    // This variant's own key space: the job queue the takeover case fills does not stay behind.
    if (engines.cache === 'redis') await engines.reset();
  });
  return t;
}

/**
 * One describe block's organization on its variant's server, and the calls its tests share. Its
 * agents enroll from an address of its own, so the enrollment attempts one block spends do not
 * count against another's rate-limit window.
 */
function blockOn(server: { h: Harness }, label: string) {
  const t = {} as { org: OrgFixture };
  const address = nextAddress();
  const sockets: { close(): Promise<void> }[] = [];
  beforeAll(async () => {
    t.org = await createOrgFixture(server.h, label);
  }, 120_000);
  afterAll(async () => {
    await Promise.all(sockets.map((socket) => socket.close()));
  });
  const enroll = (token: string, machine = randomBytes(6).toString('hex'), currentCredentials?: { deviceId: string; deviceSecret: string }) =>
    httpCallFrom(address, server.h.server.url, 'agent.enroll', 'mutation', { token, inventory: fakeInventory(machine, hostOf(machine)), ...(currentCredentials ? { currentCredentials } : {}) }, { kind: 'anonymous' });
  return {
    get h() {
      return server.h;
    },
    get org() {
      return t.org;
    },
    sockets,
    enroll,
    async enrolled(token: string, machine: string, currentCredentials?: { deviceId: string; deviceSecret: string }) {
      const outcome = await enroll(token, machine, currentCredentials);
      expect(outcome.ok, outcome.message).toBe(true);
      return outcome.data as Enrolled;
    },
    as: (role: 'viewer' | 'technician' | 'admin' | 'owner') => server.h.http({ authorization: `Bearer ${t.org.users[role].session}` }),
    owner: () => server.h.http({ authorization: `Bearer ${t.org.users.owner.session}` }),
    auditRows: async (resourceId: string) => (await server.h.server.services.db.query<AuditRow>(
      'SELECT action, user_id, resource_id, doc FROM audit_log WHERE resource_id = $1 ORDER BY ts', [resourceId])).rows,
    connect(device: { deviceId: string; deviceSecret: string }) {
      const agent = agentSocket(server.h, device.deviceId, device.deviceSecret);
      sockets.push(agent);
      return agent;
    },
  };
}

describe.each(engineVariants())('enrollment ($name)', (engines) => {
  const variant = serverOfVariant(engines);

  describe('enrollment tokens and device secrets', () => {
    const server = blockOn(variant, 'Enroll');
    const { enroll, owner, sockets } = server;
    let h: Harness;
    let org: OrgFixture;
    beforeAll(() => {
      ({ h, org } = server);
    });
    const deviceCount = async () => (await h.server.services.db.query<{ n: number }>('SELECT count(*)::int AS n FROM devices')).rows[0]!.n;

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

  describe('a roll-out behind one address', () => {
    const server = blockOn(variant, 'Rollout');
    const { enroll, owner } = server;

    it('enrolls a wave of machines from one address past its attempt budget with a token that works; guesses from it stay limited', async () => {
      const machines = ENROLL_ATTEMPTS_PER_WINDOW + 10;
      const fleet = await owner().tokens.create.mutate({ name: 'roll-out', maxUses: machines });
      // All at once, as a roll-out's first wave arrives through a NAT: none is refused, each spends one use.
      const wave = await Promise.all(Array.from({ length: machines }, () => enroll(fleet.token)));
      expect(wave.filter((outcome) => !outcome.ok).map((outcome) => outcome.code)).toEqual([]);
      const { rows } = await server.h.server.services.db.query<{ uses: number }>('SELECT uses FROM enrollment_tokens WHERE id = $1', [fleet.record.id]);
      expect(rows[0]!.uses).toBe(machines);
      expect((await enroll(fleet.token)).code).toBe('UNAUTHORIZED');
      // Guesses from the same address are still held to its budget (what the wave spent of it included).
      const codes: (string | null)[] = [];
      for (let i = 0; i <= ENROLL_ATTEMPTS_PER_WINDOW; i++) codes.push((await enroll(`nit_${randomBytes(32).toString('base64url')}`)).code);
      expect(codes.at(-1)).toBe('TOO_MANY_REQUESTS');
      expect(codes.filter((code) => code === 'UNAUTHORIZED').length).toBeLessThanOrEqual(ENROLL_ATTEMPTS_PER_WINDOW);
    });
  });

  describe('device identity: a machine key is not a secret', () => {
    const server = blockOn(variant, 'Identity');
    const { enrolled, owner, as, auditRows, connect } = server;
    let h: Harness;
    let org: OrgFixture;
    beforeAll(() => {
      ({ h, org } = server);
    });

    it('an impostor with a token and the machine key gets a pending device of its own; the real agent keeps its id, secret and queued command', async () => {
      const { token } = await owner().tokens.create.mutate({ name: 'takeover', maxUses: 10 });
      const machine = `victim-${randomBytes(6).toString('hex')}`;
      const real = await enrolled(token, machine);
      // A technician queues a command while the real agent is away.
      const queued = await as('technician').commands.run.mutate({ deviceId: real.deviceId, script: 'echo for the real agent' });
      expect(queued.status).toBe('queued');

      // The impostor holds a token of the organization and reads the machine key; it has no secret, or guesses one.
      const impostor = await enrolled(token, machine);
      const guesser = await enrolled(token, machine, { deviceId: real.deviceId, deviceSecret: `nds_${randomBytes(32).toString('base64url')}` });
      for (const claim of [impostor, guesser]) {
        expect(claim.deviceId).not.toBe(real.deviceId);
        expect(claim).toMatchObject({ reused: false, status: 'pending_approval', nextSeq: 1 });
      }

      // The real agent's secret still works, and the command queued for it reaches it.
      const agent = connect(real);
      expect((await agent.heartbeat()).ok).toBe(true);
      agent.watchCommands();
      await waitFor('the queued command to reach the real agent', async () => agent.received.some((m) => m.command?.id === queued.id), 10_000, 50);

      // The pending devices connect and heartbeat, and nothing reaches them: not a command, a shell or a job.
      const impostors = [connect(impostor), connect(guesser)];
      for (const socket of impostors) {
        expect((await socket.heartbeat()).ok).toBe(true);
        socket.watchCommands();
      }
      for (const claim of [impostor, guesser]) {
        expect(await codeOf(as('technician').commands.run.mutate({ deviceId: claim.deviceId, script: 'echo stolen' }))).toBe('CONFLICT');
        expect(await codeOf(as('technician').shell.open.mutate({ deviceId: claim.deviceId }))).toBe('CONFLICT');
        expect(await codeOf(as('technician').jobs.create.mutate({ script: 'echo stolen', deviceIds: [claim.deviceId] }))).toBe('CONFLICT');
      }
      const everyDevice = await as('technician').jobs.create.mutate({ script: 'echo fleet' });
      const targets = (await as('technician').jobs.status.query({ id: everyDevice.id })).targets.map((target) => target.deviceId);
      expect(targets).toContain(real.deviceId);
      expect(targets).not.toContain(impostor.deviceId);
      expect(targets).not.toContain(guesser.deviceId);
      await waitFor('the fleet job to reach the real agent', async () => agent.received.filter((m) => m.type === 'run').length >= 2, 10_000, 50);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(impostors.flatMap((socket) => socket.received), 'messages that reached a pending device').toEqual([]);
      const { rows } = await h.server.services.db.query<{ n: number }>('SELECT count(*)::int AS n FROM commands WHERE device_id = ANY($1::uuid[])', [[impostor.deviceId, guesser.deviceId]]);
      expect(rows[0]!.n).toBe(0);

      // People see the claim, and whom it claims to be.
      const pending = await as('viewer').devices.get.query({ id: impostor.deviceId });
      const claimed = await as('viewer').devices.get.query({ id: real.deviceId });
      expect(pending).toMatchObject({ approvalState: 'pending', pendingReason: 'no_credentials', claimsDeviceId: real.deviceId, claimsDeviceName: claimed.name });
      expect(await as('viewer').devices.get.query({ id: guesser.deviceId })).toMatchObject({ approvalState: 'pending', pendingReason: 'wrong_credentials' });
      expect(claimed.approvalState).toBe('approved');
      const listed = await as('viewer').devices.list.query({ deviceIds: [impostor.deviceId, real.deviceId] });
      expect(listed.items.find((item) => item.id === impostor.deviceId)?.pendingApproval).toMatchObject({ claimsDeviceName: claimed.name });
      expect(listed.items.find((item) => item.id === real.deviceId)?.pendingApproval).toBeNull();
      expect((await as('viewer').devices.counts.query()).awaitingApproval).toBeGreaterThanOrEqual(2);
      const waiting = await as('viewer').devices.pending.query();
      expect(waiting.filter((device) => [impostor.deviceId, guesser.deviceId].includes(device.id)))
        .toEqual([expect.objectContaining({ claimsDeviceName: claimed.name, machineKeyFingerprint: fingerprint(machine) }), expect.objectContaining({ claimsDeviceName: claimed.name })]);

      // Every enrollment is audited, with no person: the token, the address, the machine's fingerprint and name.
      const [enrollEntry] = await auditRows(real.deviceId);
      expect(enrollEntry).toMatchObject({ action: 'device.enrolled', user_id: null });
      const [pendingEntry] = await auditRows(impostor.deviceId);
      expect(pendingEntry).toMatchObject({ action: 'device.enrollment_pending', user_id: null });
      const { rows: [tokenRow] } = await h.server.services.db.query<{ id: string }>('SELECT id FROM enrollment_tokens WHERE name = $1 AND organization_id = $2', ['takeover', org.orgId]);
      for (const entry of [enrollEntry!, pendingEntry!]) {
        expect(entry.doc.details).toMatchObject({ enrollmentTokenId: tokenRow!.id, machineKeyFingerprint: fingerprint(machine), hostname: hostOf(machine) });
        expect(entry.doc.details.sourceIp).toBeTruthy();
        expect(JSON.stringify(entry)).not.toContain(machine);
      }
      expect(pendingEntry!.doc.details).toMatchObject({ claimsDeviceId: real.deviceId, pendingReason: 'no_credentials' });
    });

    it('re-enrolling with the current secret keeps the device: same id, new secret, the ingest sequence continues', async () => {
      const { token } = await owner().tokens.create.mutate({ name: 're-enroll', maxUses: 5 });
      const machine = `reinstall-${randomBytes(6).toString('hex')}`;
      const first = await enrolled(token, machine);
      const agent = connect(first);
      const now = Date.now();
      expect(await agent.client.mutation('agent.push', { records: [1, 2, 3].map((seq) => fakeSampleRecord(seq, now - 1000 + seq)) })).toMatchObject({ ackSeq: 3 });
      const again = await enrolled(token, machine, { deviceId: first.deviceId, deviceSecret: first.deviceSecret });
      expect(again).toMatchObject({ deviceId: first.deviceId, reused: true, status: 'active', nextSeq: 4 });
      expect(again.deviceSecret).not.toBe(first.deviceSecret);
      expect((await connect(first).heartbeat()).code).toBe('UNAUTHORIZED');
      expect((await connect(again).heartbeat()).ok).toBe(true);
      expect((await auditRows(first.deviceId)).map((row) => row.action)).toEqual(['device.enrolled', 'device.reenrolled']);
      // Another device's valid credentials prove nothing about this machine.
      const other = await enrolled(token, `other-${randomBytes(6).toString('hex')}`);
      expect(await enrolled(token, machine, { deviceId: other.deviceId, deviceSecret: other.deviceSecret })).toMatchObject({ status: 'pending_approval', reused: false });
    });

    it('admins approve, replace with or reject a pending device; each is audited and scoped to the organization', async () => {
      const { token } = await owner().tokens.create.mutate({ name: 'decisions', maxUses: 20 });
      const claim = async () => {
        const machine = `decide-${randomBytes(6).toString('hex')}`;
        const known = await enrolled(token, machine);
        return { known, pending: await enrolled(token, machine) };
      };
      const admin = as('admin');
      const stranger = await createOrgFixture(h, 'Stranger');
      const strangerAdmin = h.http({ authorization: `Bearer ${stranger.users.admin.session}` });

      // Approve: a device of its own (a cloned machine); commands reach it from then on.
      const cloned = await claim();
      for (const decide of [strangerAdmin.devices.approve, strangerAdmin.devices.replace, strangerAdmin.devices.reject]) {
        expect(await codeOf(decide.mutate({ id: cloned.pending.deviceId }))).toBe('NOT_FOUND');
      }
      expect(await codeOf(as('technician').devices.approve.mutate({ id: cloned.pending.deviceId }))).toBe('FORBIDDEN');
      expect(await codeOf(admin.devices.approve.mutate({ id: cloned.known.deviceId }))).toBe('CONFLICT');
      await admin.devices.approve.mutate({ id: cloned.pending.deviceId });
      expect(await codeOf(admin.devices.approve.mutate({ id: cloned.pending.deviceId }))).toBe('CONFLICT');
      expect((await admin.devices.get.query({ id: cloned.pending.deviceId })).approvalState).toBe('approved');
      expect((await as('technician').commands.run.mutate({ deviceId: cloned.pending.deviceId, script: 'echo approved' })).status).toBe('queued');

      // Replace: the reinstalled machine takes the known one's place; the known one is cut off at once.
      const reinstalled = await claim();
      const old = connect(reinstalled.known);
      expect((await old.heartbeat()).ok).toBe(true);
      const knownName = (await admin.devices.get.query({ id: reinstalled.known.deviceId })).name;
      await admin.devices.replace.mutate({ id: reinstalled.pending.deviceId });
      await waitFor('the replaced device\'s socket to close', async () => old.closes.length > 0, 5_000, 20);
      expect((await connect(reinstalled.known).heartbeat()).code).toBe('UNAUTHORIZED');
      expect(await admin.devices.get.query({ id: reinstalled.pending.deviceId }))
        .toMatchObject({ approvalState: 'approved', name: knownName, replacedDeviceId: reinstalled.known.deviceId });
      expect((await admin.devices.get.query({ id: reinstalled.known.deviceId })).status).toBe('decommissioned');

      // Reject: the pending device is decommissioned and cut off.
      const rejected = await claim();
      const rejectedSocket = connect(rejected.pending);
      expect((await rejectedSocket.heartbeat()).ok).toBe(true);
      await admin.devices.reject.mutate({ id: rejected.pending.deviceId });
      await waitFor('the rejected device\'s socket to close', async () => rejectedSocket.closes.length > 0, 5_000, 20);
      expect((await connect(rejected.pending).heartbeat()).code).toBe('UNAUTHORIZED');
      expect((await admin.devices.get.query({ id: rejected.pending.deviceId })).approvalState).toBe('rejected');
      expect((await connect(rejected.known).heartbeat()).ok).toBe(true);

      const decided = async (id: string) => (await auditRows(id)).filter((row) => row.user_id === org.users.admin.id).map((row) => row.action);
      expect(await decided(cloned.pending.deviceId)).toEqual(['device.approved']);
      expect(await decided(reinstalled.pending.deviceId)).toEqual(['device.replaced']);
      expect((await auditRows(reinstalled.pending.deviceId)).at(-1)!.doc.details).toMatchObject({ replacedDeviceId: reinstalled.known.deviceId });
      expect(await decided(rejected.pending.deviceId)).toEqual(['device.rejected']);
    }, 120_000); // A second organization's whole fixture (logins, a device, jobs) is built inside it.

    it('shows people a fingerprint of the machine key, never the key, in any devices.* answer', async () => {
      const { token } = await owner().tokens.create.mutate({ name: 'fingerprint', maxUses: 2 });
      const machine = `secret-key-${randomBytes(12).toString('hex')}`;
      const device = await enrolled(token, machine);
      // A claim of the same key, so the list of devices waiting for approval has one to show.
      expect((await enrolled(token, machine)).status).toBe('pending_approval');
      // The agent's hourly inventory carries the key too: it must not come back out.
      const agent = connect(device);
      await agent.client.mutation('agent.push', { records: [{ seq: 1, collectedAt: Date.now(), kind: 'inventory', inventory: fakeInventory(machine, hostOf(machine)) }] });
      await h.server.drained();
      const queries = procedures.filter((info) => info.path.startsWith('devices.') && info.type === 'query');
      expect(queries.map((info) => info.path)).toEqual(expect.arrayContaining(['devices.get', 'devices.list', 'devices.pending']));
      for (const role of ['viewer', 'owner'] as const) {
        for (const info of queries) {
          const input = info.shape?.id ? { id: device.deviceId } : info.shape?.deviceIds ? { deviceIds: [device.deviceId] } : undefined;
          const outcome = await httpCall(h.server.url, info.path, 'query', input, { kind: 'session', token: org.users[role].session });
          expect(outcome.ok, `${info.path} as ${role}: ${outcome.message}`).toBe(true);
          expect(outcome.text, `${info.path} as ${role} shows the machine key`).not.toContain(machine);
        }
      }
      expect(await as('viewer').devices.get.query({ id: device.deviceId })).toMatchObject({ machineKeyFingerprint: fingerprint(machine), inventory: { hostname: hostOf(machine) } });
    });
  });
});
