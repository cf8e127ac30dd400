import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import { applyWSSHandler } from '@trpc/server/adapters/ws';
import { MAX_PUSH_BYTES } from '@ninjait/shared';
import type { AnyTRPCRouter } from '@trpc/server';
import type { Env } from '../config/index.ts';
import type { Logger } from '../obs/logger.ts';
import type { Metrics } from '../obs/metrics.ts';
import { hasCredentials, type Context, type ContextOptions } from '../trpc/context.ts';
import { addressKey, clientIp } from './client-address.ts';
import { sendJson } from './probes.ts';
import { answerRawSocket, guardClientErrors, guardRequests, guardUpgrades, type Route } from './boundary.ts';
import { createOperatorAccess } from './operator-access.ts';
import { requestTarget } from './request-target.ts';
import { createWsAdmission } from './ws-admission.ts';

/** Room for the JSON envelope around the largest push. */
const MAX_MESSAGE_BYTES = MAX_PUSH_BYTES + 64 * 1024;
/** Pings quiet sockets so dead agents are noticed and NATs keep the mapping. */
const WS_PING_MS = 30_000;
const WS_PONG_WAIT_MS = 10_000;
/**
 * Calls in one HTTP batch (`?batch=1`). The console's batch link splits at this size (it batches a
 * page's queries, a dozen at most); the CLI and agents do not batch over HTTP.
 */
export const MAX_BATCH_CALLS = 50;
/**
 * Calls in one WebSocket frame. tRPC's WebSocket client sends every call made in the same tick as
 * one frame and cannot split it: agents and the console send a handful, a test sweeping every
 * procedure ~70. One frame of hundreds of logins is an attack, refused whole before any per-call
 * limit could count it (those limits still meet the same calls sent in smaller frames).
 */
export const MAX_CALLS_PER_FRAME = 200;

export interface HttpServer {
  server: Server;
  wss: WebSocketServer;
  /** Asks every client to reconnect (to another instance), then closes. */
  close(): Promise<void>;
}

const isJson = (contentType: string | undefined) => contentType?.split(';', 1)[0]?.trim().toLowerCase() === 'application/json';

/** A route outside /trpc: true when it answered the request. */
export type ExtraRoute = (req: IncomingMessage, res: ServerResponse) => boolean;

/** What the port serves; the composition root builds each part (platform knows no feature). */
export interface HttpServerDeps {
  env: Pick<Env, 'METRICS_TOKEN' | 'WS_AUTH_TIMEOUT_MS' | 'WS_UNAUTH_PER_IP_MAX'>;
  log: Logger;
  /** What /metrics serves: this process's registry, or every worker's merged (cluster-metrics.ts). */
  metrics: { registry: Pick<Metrics['registry'], 'contentType' | 'metrics'> };
  router: AnyTRPCRouter;
  createContext(opts: ContextOptions): Promise<Context>;
  /** /readyz: each store's health check. */
  readiness(): Promise<{ ready: boolean }>;
  /** Tried in order after tRPC, probes and metrics (downloads, the console's files). */
  routes: ExtraRoute[];
  tls?: { cert: Buffer; key: Buffer } | undefined;
  /** Upgrades other than tRPC's WebSocket, tried first (devices' download streams): true when one took the socket. */
  upgrades?: ((req: IncomingMessage, socket: Duplex, head: Buffer) => boolean)[];
  /** Binary WebSocket messages (agents' download chunks); tRPC only speaks text. Without it they reach tRPC, which refuses them. */
  onBinaryFrame?: (socket: WebSocket, data: Buffer) => void;
}

/**
 * Hands a socket's binary messages to `onFrame` instead of its `message` listeners. tRPC's
 * adapter listens on every socket and answers a binary message with a parse error; there is no
 * option to keep them from it, so they are taken where `ws` emits them, before any listener.
 */
function divertBinaryFrames(ws: WebSocket, onFrame: (socket: WebSocket, data: Buffer) => void) {
  const emit = ws.emit.bind(ws);
  ws.emit = ((event: string | symbol, ...args: unknown[]) => {
    if (event === 'message' && args[1] === true) {
      const data = args[0];
      onFrame(ws, Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]));
      return true;
    }
    return emit(event, ...args);
  }) as typeof ws.emit;
}

/** One port: tRPC over HTTP and WebSocket at /trpc, probes, metrics, and extra routes. */
export function createHttpServer(deps: HttpServerDeps): HttpServer {
  const { env, log, metrics, router, createContext, tls } = deps;
  const trpcHttp = createHTTPHandler({
    router,
    basePath: '/trpc/',
    maxBodySize: MAX_MESSAGE_BYTES,
    maxBatchSize: MAX_BATCH_CALLS,
    createContext,
  });
  const operatorAccess = createOperatorAccess(env.METRICS_TOKEN);

  /** /metrics and /readyz: loopback, or the metrics token from elsewhere. */
  const operatorOnly = (req: IncomingMessage, res: ServerResponse, answer: () => Promise<void>): Promise<void> | void => {
    const access = operatorAccess(req);
    if (access === 'allowed') return answer();
    if (access === 'unauthorized') {
      res.setHeader('www-authenticate', 'Bearer realm="ninjait-metrics"');
      return sendJson(res, 401, { error: 'Send Authorization: Bearer <METRICS_TOKEN>' });
    }
    sendJson(res, 403, { error: 'Only readable from this machine: set METRICS_TOKEN on the server to read it from elsewhere' });
  };

  const route: Route = (req, res) => {
    const { path } = requestTarget(req);
    if (path.startsWith('/trpc/')) {
      // tRPC speaks GET and POST; the fetch Request it builds refuses some methods (TRACE) by throwing.
      if (req.method !== 'GET' && req.method !== 'POST') {
        res.setHeader('allow', 'GET, POST');
        return sendJson(res, 405, { error: { message: `tRPC calls use GET or POST, not ${String(req.method).slice(0, 16)}`, code: -32005, data: { code: 'METHOD_NOT_SUPPORTED', httpStatus: 405 } } });
      }
      // CSRF: tRPC also runs POSTs sent as multipart/form-data, which any site's form can send
      // with the cookie. Our clients only send JSON, which a cross-site page cannot without CORS.
      if (req.method === 'POST' && !isJson(req.headers['content-type'])) {
        return sendJson(res, 415, { error: { message: 'tRPC calls over HTTP POST need content-type application/json', code: -32015, data: { code: 'UNSUPPORTED_MEDIA_TYPE', httpStatus: 415 } } });
      }
      return trpcHttp(req, res);
    }
    // Liveness only: no instance name (it carries the host name and process id).
    if (path === '/healthz') return sendJson(res, 200, { ok: true });
    if (path === '/readyz') {
      return operatorOnly(req, res, async () => {
        const result = await deps.readiness();
        sendJson(res, result.ready ? 200 : 503, result);
      });
    }
    if (path === '/metrics') {
      return operatorOnly(req, res, async () => {
        const text = await metrics.registry.metrics();
        res.writeHead(200, { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' });
        res.end(text);
      });
    }
    if (deps.routes.some((extra) => extra(req, res))) return;
    sendJson(res, 404, { error: 'Not found' });
  };
  const handle = guardRequests(log, route);
  const server: Server = tls ? createTlsServer({ cert: tls.cert, key: tls.key }, handle) : createServer(handle);
  server.keepAliveTimeout = 65_000;
  guardClientErrors(server, log);

  const admission = createWsAdmission({ authTimeoutMs: env.WS_AUTH_TIMEOUT_MS, perAddressMax: env.WS_UNAUTH_PER_IP_MAX });
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES, perMessageDeflate: false });
  wss.on('error', (error) => log.error({ err: error }, 'WebSocket server error'));
  const handler = applyWSSHandler({
    wss,
    router,
    maxBatchSize: MAX_CALLS_PER_FRAME,
    createContext: async (opts) => {
      const context = await createContext(opts);
      if (await hasCredentials(context)) admission.authenticated(opts.res);
      return context;
    },
    keepAlive: { enabled: true, pingMs: WS_PING_MS, pongWaitMs: WS_PONG_WAIT_MS },
  });
  server.on('upgrade', guardUpgrades(log, (req, socket, head) => {
    if (deps.upgrades?.some((upgrade) => upgrade(req, socket, head))) return;
    if (!requestTarget(req).path.startsWith('/trpc')) return answerRawSocket(socket, 404);
    const address = addressKey(clientIp(req));
    if (!admission.mayOpen(address)) {
      log.debug({ address }, 'WebSocket refused: too many unauthenticated sockets from this address');
      return answerRawSocket(socket, 429, { 'retry-after': String(Math.ceil(env.WS_AUTH_TIMEOUT_MS / 1000)) });
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      // Counted before tRPC sees the socket: its context (and credentials) may resolve at once.
      admission.opened(ws, address);
      if (deps.onBinaryFrame) divertBinaryFrames(ws, deps.onBinaryFrame);
      wss.emit('connection', ws, req);
    });
  }));

  return {
    server,
    wss,
    async close() {
      handler.broadcastReconnectNotification();
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
