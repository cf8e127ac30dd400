// Test helper: a tRPC server speaking the agent's part of the contract (same shared schemas,
// same transport: HTTP for enroll, one WebSocket with connectionParams for the rest), so the
// agent's wire code is exercised without the real server and its stores.
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { initTRPC, TRPCError } from '@trpc/server';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import { applyWSSHandler } from '@trpc/server/adapters/ws';
import { WebSocketServer } from 'ws';
import { enrollInputSchema, heartbeatInputSchema, pushInputSchema, type EnrollInput, type HeartbeatInput, type OutboxRecord } from '@ninjait/shared';

export const FAKE_DEVICE = {
  deviceId: '11111111-1111-4111-8111-111111111111',
  organizationId: '22222222-2222-4222-8222-222222222222',
  deviceSecret: 'secret-secret-secret-secret',
};
export const FAKE_TOKEN = 'enroll-token-0123456789';

export interface FakeServer {
  url: string;
  /** Logged records by seq: the server side of "nothing lost, nothing doubled". */
  logged: Map<number, OutboxRecord>;
  pushes: number[];
  heartbeats: HeartbeatInput[];
  /** Every enrollment request that reached the server. */
  enrollments: EnrollInput[];
  connections: number;
  /** HTTP requests and upgrade requests received (anything past the TLS handshake). */
  requests: number;
  /** TCP connections accepted (before TLS, before HTTP). */
  sockets: number;
  /** Next N pushes fail with this tRPC code. */
  failPushes(n: number, code: TRPCError['code']): void;
  /** Pushes wait this long before answering. */
  pushDelayMs: number;
  close(): Promise<void>;
}

export interface FakeServerOptions {
  reused?: boolean;
  intervalMs?: number;
  /** Refuse bad credentials when the socket connects (id: null error + close) instead of per call. */
  rejectInContext?: boolean;
  /** Answer the WebSocket upgrade with this HTTP status instead of upgrading. */
  rejectUpgradeStatus?: number;
  /** Serve HTTPS/WSS with this certificate and key. */
  tls?: { cert: Buffer; key: Buffer };
  /** What enrollment answers as the device's status (absent: as an older server, active). */
  enrollStatus?: 'active' | 'pending_approval';
  /** What heartbeats announce as the server's next keys. */
  acceptedServerPins?: string[];
  port?: number;
}

export async function startFakeServer(opts: FakeServerOptions = {}): Promise<FakeServer> {
  const t = initTRPC.context<{ deviceId: string | null }>().create();
  const state = {
    logged: new Map<number, OutboxRecord>(),
    pushes: [] as number[],
    heartbeats: [] as HeartbeatInput[],
    enrollments: [] as EnrollInput[],
    connections: 0,
    requests: 0,
    sockets: 0,
    failures: { n: 0, code: 'INTERNAL_SERVER_ERROR' as TRPCError['code'] },
    pushDelayMs: 0,
  };
  const maxSeq = () => Math.max(0, ...state.logged.keys());
  const device = t.procedure.use(({ ctx, next }) => {
    if (!ctx.deviceId) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'bad device credentials' });
    return next({ ctx: { deviceId: ctx.deviceId } });
  });
  const router = t.router({
    agent: t.router({
      enroll: t.procedure.input(enrollInputSchema).mutation(({ input }) => {
        state.enrollments.push(input);
        if (input.token !== FAKE_TOKEN) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'unknown token' });
        return { ...FAKE_DEVICE, nextSeq: maxSeq() + 1, intervalMs: opts.intervalMs ?? 30_000, reused: opts.reused ?? false, ...(opts.enrollStatus && { status: opts.enrollStatus }) };
      }),
      heartbeat: device.input(heartbeatInputSchema).mutation(({ input }) => {
        state.heartbeats.push(input);
        return { serverTime: Date.now(), ackSeq: maxSeq(), ...(opts.acceptedServerPins && { acceptedServerPins: opts.acceptedServerPins }) };
      }),
      push: device.input(pushInputSchema).mutation(async ({ input }) => {
        if (state.pushDelayMs) await new Promise((r) => setTimeout(r, state.pushDelayMs));
        if (state.failures.n > 0) {
          state.failures.n--;
          throw new TRPCError({ code: state.failures.code, message: 'injected failure' });
        }
        state.pushes.push(input.records.length);
        for (const r of input.records) if (!state.logged.has(r.seq)) state.logged.set(r.seq, r);
        return { ackSeq: maxSeq() };
      }),
    }),
  });
  const createContext = ({ info }: { info: { connectionParams: Record<string, string | undefined> | null } }) => {
    const p = info.connectionParams;
    const ok = p?.deviceId === FAKE_DEVICE.deviceId && p?.deviceSecret === FAKE_DEVICE.deviceSecret;
    if (!ok && p && opts.rejectInContext) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'device decommissioned' });
    return { deviceId: ok ? FAKE_DEVICE.deviceId : null };
  };
  const handle = createHTTPHandler({ router, createContext, basePath: '/trpc/' });
  const http = opts.tls ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key }, handle) : createHttpServer(handle);
  const wss = new WebSocketServer({ noServer: true, maxPayload: 8 * 1024 * 1024 });
  http.on('request', () => state.requests++);
  http.on('connection', () => state.sockets++);
  http.on('upgrade', (req, socket, head) => {
    state.requests++;
    if (opts.rejectUpgradeStatus) return void socket.end(`HTTP/1.1 ${opts.rejectUpgradeStatus} Refused\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    if (!req.url?.startsWith('/trpc')) return void socket.destroy();
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  wss.on('connection', () => state.connections++);
  const handler = applyWSSHandler({ wss, router, createContext, keepAlive: { enabled: true, pingMs: 5_000, pongWaitMs: 2_000 } });
  await new Promise<void>((resolve) => http.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;

  return {
    url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    get logged() { return state.logged; },
    get pushes() { return state.pushes; },
    get heartbeats() { return state.heartbeats; },
    get enrollments() { return state.enrollments; },
    get connections() { return state.connections; },
    get requests() { return state.requests; },
    get sockets() { return state.sockets; },
    get pushDelayMs() { return state.pushDelayMs; },
    set pushDelayMs(ms: number) { state.pushDelayMs = ms; },
    failPushes(n, code) { state.failures = { n, code }; },
    async close() {
      handler.broadcastReconnectNotification();
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
