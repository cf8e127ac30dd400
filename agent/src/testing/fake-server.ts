// Test helper: a tRPC server speaking the agent's part of the contract (same shared schemas,
// same transport: HTTP for enroll, one WebSocket with connectionParams for the rest), so the
// agent's wire code is exercised without the real server and its stores.
import type { AddressInfo } from 'node:net';
import { initTRPC, TRPCError } from '@trpc/server';
import { createHTTPServer } from '@trpc/server/adapters/standalone';
import { applyWSSHandler } from '@trpc/server/adapters/ws';
import { WebSocketServer } from 'ws';
import { enrollInputSchema, heartbeatInputSchema, pushInputSchema, type HeartbeatInput, type OutboxRecord } from '@ninjait/shared';

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
  connections: number;
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
  port?: number;
}

export async function startFakeServer(opts: FakeServerOptions = {}): Promise<FakeServer> {
  const t = initTRPC.context<{ deviceId: string | null }>().create();
  const state = {
    logged: new Map<number, OutboxRecord>(),
    pushes: [] as number[],
    heartbeats: [] as HeartbeatInput[],
    connections: 0,
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
        if (input.token !== FAKE_TOKEN) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'unknown token' });
        return { ...FAKE_DEVICE, nextSeq: maxSeq() + 1, intervalMs: opts.intervalMs ?? 30_000, reused: opts.reused ?? false };
      }),
      heartbeat: device.input(heartbeatInputSchema).mutation(({ input }) => {
        state.heartbeats.push(input);
        return { serverTime: Date.now(), ackSeq: maxSeq() };
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
  const http = createHTTPServer({ router, createContext, basePath: '/trpc/' });
  const wss = new WebSocketServer({ server: http, path: '/trpc', maxPayload: 8 * 1024 * 1024 });
  wss.on('connection', () => state.connections++);
  const handler = applyWSSHandler({ wss, router, createContext, keepAlive: { enabled: true, pingMs: 5_000, pongWaitMs: 2_000 } });
  await new Promise<void>((resolve) => http.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    get logged() { return state.logged; },
    get pushes() { return state.pushes; },
    get heartbeats() { return state.heartbeats; },
    get connections() { return state.connections; },
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
