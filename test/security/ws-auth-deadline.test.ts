import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTRPCClient, httpLink } from '@trpc/client';
import { WebSocket } from 'ws';
import { LOCAL_ADMIN_HEADER, readLocalAdminToken, type AppRouter } from '@ninjait/server';
import { fakeInventory } from '@ninjait/server/testing';
import { serverVariants, spawnServer, type SpawnedServer } from './edge-support.ts';
import { PASSWORD, unique } from './support.ts';

/**
 * Unauthenticated WebSockets are not held forever: 10,000 sockets that answered pings once stayed
 * open with no credentials. With real sockets against a spawned server: a socket that presents no
 * valid credentials (none, connectionParams announced but never sent, a forged session, a wrong
 * device secret) is closed at WS_AUTH_TIMEOUT_MS however lively it is; sockets with device
 * credentials, a session (in connectionParams, or the console's cookie) or the local admin's
 * credential stay; and one address holds at most WS_UNAUTH_PER_IP_MAX unauthenticated sockets.
 */

const AUTH_TIMEOUT_MS = 1_000;
const PER_ADDRESS_MAX = 5;
/** A public query any socket may make: answering it says nothing about credentials. */
const UPDATE_CHECK = { platform: 'linux', arch: 'x64', version: '0.0.1' };
/** Closing takes the deadline plus a close handshake; a loaded machine adds some. */
const CLOSE_SLACK_MS = 4_000;

interface Opened {
  ws: WebSocket;
  /** Resolves with the close code and when it came, measured from the open. */
  closed: Promise<{ code: number; afterMs: number }>;
  /** Sends one call and resolves with its result or error code. */
  call(method: 'query' | 'mutation', path: string, input?: unknown): Promise<string>;
}

describe.each(serverVariants())('unauthenticated WebSockets are closed and capped ($name)', (variant) => {
  let server: SpawnedServer;
  let adminToken: string;
  let sessionToken: string;
  let device: { deviceId: string; deviceSecret: string };
  const sockets: WebSocket[] = [];

  /** Opens a socket from `address`; `params` are sent as tRPC connectionParams, `headers` go on the upgrade. */
  async function open(address: string, options: { params?: unknown; announceParams?: boolean; headers?: Record<string, string> } = {}): Promise<Opened> {
    const announce = options.announceParams ?? options.params !== undefined;
    const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/trpc${announce ? '?connectionParams=1' : ''}`, {
      localAddress: address, perMessageDeflate: false, headers: options.headers ?? {},
    });
    sockets.push(ws);
    const pending = new Map<number, (code: string) => void>();
    let nextId = 1;
    ws.on('message', (raw) => {
      const text = raw.toString();
      if (text === 'PING') return void ws.send('PONG');
      if (text === 'PONG') return;
      const message = JSON.parse(text) as { id: number; error?: { data?: { code?: string } } };
      pending.get(message.id)?.(message.error?.data?.code ?? 'OK');
    });
    await new Promise<void>((resolve, reject) => ws.once('open', () => resolve()).once('error', reject));
    const openedAt = performance.now();
    const closed = new Promise<{ code: number; afterMs: number }>((resolve) => ws.once('close', (code) => resolve({ code, afterMs: performance.now() - openedAt })));
    if (options.params !== undefined) ws.send(JSON.stringify({ method: 'connectionParams', data: options.params }));
    return {
      ws, closed,
      call: (method, path, input) => new Promise((resolve) => {
        const id = nextId++;
        pending.set(id, resolve);
        ws.send(JSON.stringify({ id, method, params: { path, input } }));
      }),
    };
  }
  /** Whether opening one more socket from `address` is refused at the handshake (and with what). */
  const refusal = (address: string) => new Promise<string>((resolve) => {
    const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/trpc`, { localAddress: address });
    sockets.push(ws);
    ws.once('open', () => resolve('opened'));
    ws.once('unexpected-response', (_req, res) => resolve(`HTTP ${res.statusCode}`));
    ws.once('error', (error) => resolve(error.message));
  });
  const stillOpenAfter = async (socket: Opened, ms: number) => {
    const outcome = await Promise.race([socket.closed.then((closed) => `closed ${closed.code}`), new Promise((resolve) => setTimeout(() => resolve('open'), ms))]);
    return outcome;
  };

  beforeAll(async () => {
    server = await spawnServer(variant, { WS_AUTH_TIMEOUT_MS: String(AUTH_TIMEOUT_MS), WS_UNAUTH_PER_IP_MAX: String(PER_ADDRESS_MAX) });
    adminToken = (await readLocalAdminToken(server.dataDir))!;
    const admin = createTRPCClient<AppRouter>({ links: [httpLink({ url: `${server.url}/trpc`, headers: { [LOCAL_ADMIN_HEADER]: adminToken } })] });
    const anonymous = createTRPCClient<AppRouter>({ links: [httpLink({ url: `${server.url}/trpc` })] });
    const org = await admin.admin.organizations.create.mutate({ name: `Sockets-${unique()}` });
    const email = `${unique()}@sockets.test`;
    await admin.admin.users.create.mutate({ org: org.id, email, password: PASSWORD, role: 'viewer' });
    sessionToken = (await anonymous.auth.login.mutate({ email, password: PASSWORD })).sessionToken;
    const { token } = await admin.admin.tokens.create.mutate({ org: org.id });
    const enrolled = await anonymous.agent.enroll.mutate({ token, inventory: fakeInventory(`sockets-${unique()}`) });
    device = { deviceId: enrolled.deviceId, deviceSecret: enrolled.deviceSecret };
  }, 180_000);
  afterAll(async () => {
    sockets.forEach((ws) => ws.terminate());
    await server?.stop();
  });

  it('closes sockets without valid credentials at the deadline, however lively they are', async () => {
    const lively = await open('127.0.14.1');
    // It talks the whole time: pings the server and calls a public procedure.
    const chatter = setInterval(() => lively.ws.readyState === WebSocket.OPEN && lively.ws.send('PING'), 100);
    expect(await lively.call('query', 'updates.check', UPDATE_CHECK)).toBe('OK');
    const silent = await open('127.0.14.1', { announceParams: true });
    const forgedSession = await open('127.0.14.1', { params: { sessionToken: `ns_${'A'.repeat(43)}` } });
    const wrongSecret = await open('127.0.14.1', { params: { deviceId: device.deviceId, deviceSecret: `nds_${'B'.repeat(43)}` } });
    const crossSiteCookie = await open('127.0.14.1', { headers: { origin: 'https://evil.example', cookie: `ninjait_session=${sessionToken}` } });
    const closes = await Promise.all([lively, silent, forgedSession, wrongSecret, crossSiteCookie].map((socket) => socket.closed));
    clearInterval(chatter);
    for (const { code, afterMs } of closes) {
      expect(code).toBe(1008);
      expect(afterMs).toBeGreaterThanOrEqual(AUTH_TIMEOUT_MS - 100);
      expect(afterMs).toBeLessThan(AUTH_TIMEOUT_MS + CLOSE_SLACK_MS);
    }
  }, 30_000);

  it('keeps sockets that authenticated: device, session in connectionParams, session cookie, local admin', async () => {
    const agent = await open('127.0.14.2', { params: device });
    const person = await open('127.0.14.2', { params: { sessionToken } });
    const cookie = await open('127.0.14.2', { headers: { origin: server.url, cookie: `ninjait_session=${sessionToken}` } });
    const localAdmin = await open('127.0.0.1', { headers: { [LOCAL_ADMIN_HEADER]: adminToken } });
    const outcomes = await Promise.all([agent, person, cookie, localAdmin].map((socket) => stillOpenAfter(socket, 3 * AUTH_TIMEOUT_MS)));
    expect(outcomes).toEqual(['open', 'open', 'open', 'open']);
    expect(await person.call('query', 'auth.me')).toBe('OK');
    expect(await cookie.call('query', 'auth.me')).toBe('OK');
  }, 30_000);

  it(`lets one address hold ${PER_ADDRESS_MAX} unauthenticated sockets at most; authenticated ones do not count`, async () => {
    // Agents from the same address, one after the other: each counts until its credentials check out
    // (the answer to a first call proves they did), then no longer.
    const agents: Opened[] = [];
    for (let i = 0; i <= PER_ADDRESS_MAX; i++) {
      const agent = await open('127.0.14.3', { params: device });
      expect(await agent.call('query', 'updates.check', UPDATE_CHECK)).toBe('OK');
      agents.push(agent);
    }
    const waiting = [];
    for (let i = 0; i < PER_ADDRESS_MAX; i++) waiting.push(await open('127.0.14.3'));
    expect(await refusal('127.0.14.3')).toMatch(/429/);
    // Another address has its own allowance.
    expect(await refusal('127.0.14.4')).toBe('opened');
    // Once the waiting sockets are closed at their deadline, the address may open sockets again.
    await Promise.all(waiting.map((socket) => socket.closed));
    expect(await refusal('127.0.14.3')).toBe('opened');
    expect(agents.every((socket) => socket.ws.readyState === WebSocket.OPEN)).toBe(true);
  }, 30_000);
});
