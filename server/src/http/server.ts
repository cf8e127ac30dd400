import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { WebSocketServer } from 'ws';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import { applyWSSHandler } from '@trpc/server/adapters/ws';
import { MAX_PUSH_BYTES } from '@ninjait/shared';
import type { Services } from '../app/services.ts';
import { appRouter } from '../api/root.ts';
import { createContext } from '../api/context.ts';
import { readiness, sendJson } from './probes.ts';
import { handleDownloads } from './downloads.ts';

/** Room for the JSON envelope around the largest push. */
const MAX_MESSAGE_BYTES = MAX_PUSH_BYTES + 64 * 1024;
/** Pings quiet sockets so dead agents are noticed and NATs keep the mapping. */
const WS_PING_MS = 30_000;
const WS_PONG_WAIT_MS = 10_000;

export interface HttpServer {
  server: Server;
  wss: WebSocketServer;
  /** Asks every client to reconnect (to another instance), then closes. */
  close(): Promise<void>;
}

const isJson = (contentType: string | undefined) => contentType?.split(';', 1)[0]?.trim().toLowerCase() === 'application/json';

/** One port: tRPC over HTTP and WebSocket at /trpc, probes, metrics, and extra routes. */
export function createHttpServer(
  services: Services,
  extraRoutes: (req: IncomingMessage, res: ServerResponse) => boolean = () => false,
  tls?: { cert: Buffer; key: Buffer },
): HttpServer {
  const trpcHttp = createHTTPHandler({
    router: appRouter,
    basePath: '/trpc/',
    maxBodySize: MAX_MESSAGE_BYTES,
    createContext: (opts) => createContext(services, opts),
  });

  const handle: RequestListener = (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path.startsWith('/trpc/')) {
      // CSRF: tRPC also runs POSTs sent as multipart/form-data, which any site's form can send
      // with the cookie. Our clients only send JSON, which a cross-site page cannot without CORS.
      if (req.method === 'POST' && !isJson(req.headers['content-type'])) {
        return sendJson(res, 415, { error: { message: 'tRPC calls over HTTP POST need content-type application/json', code: -32015, data: { code: 'UNSUPPORTED_MEDIA_TYPE', httpStatus: 415 } } });
      }
      return void trpcHttp(req, res);
    }
    if (path === '/healthz') return sendJson(res, 200, { ok: true, instance: services.instanceId });
    if (path === '/readyz') {
      return void readiness(services).then((result) => sendJson(res, result.ready ? 200 : 503, result));
    }
    if (path === '/metrics') {
      return void services.metrics.registry.metrics().then((text) => {
        res.writeHead(200, { 'content-type': services.metrics.registry.contentType });
        res.end(text);
      });
    }
    if (handleDownloads(services, req, res)) return;
    if (extraRoutes(req, res)) return;
    sendJson(res, 404, { error: 'Not found' });
  };
  const server: Server = tls ? createTlsServer({ cert: tls.cert, key: tls.key }, handle) : createServer(handle);
  server.keepAliveTimeout = 65_000;

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES, perMessageDeflate: false });
  const handler = applyWSSHandler({
    wss,
    router: appRouter,
    createContext: (opts) => createContext(services, opts),
    keepAlive: { enabled: true, pingMs: WS_PING_MS, pongWaitMs: WS_PONG_WAIT_MS },
  });
  server.on('upgrade', (req, socket, head) => {
    if (!(req.url ?? '').startsWith('/trpc')) return void socket.destroy();
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

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
