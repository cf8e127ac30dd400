import { STATUS_CODES, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../obs/logger.ts';
import { sendJson } from './probes.ts';
import { requestTarget } from './request-target.ts';

/**
 * The edge of the process: whatever a request makes a handler throw or reject becomes an error
 * answer and one log line. Node ends the process on an uncaught exception, so one malformed
 * request would otherwise take every tenant's connections down with it.
 */

export type Route = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;
export type UpgradeRoute = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** The part of the path worth a log line: bounded, and never the query (install links carry tokens there). */
const LOGGED_PATH_CHARS = 200;
const loggedPath = (req: IncomingMessage) => requestTarget(req).path.slice(0, LOGGED_PATH_CHARS);

/** Runs `route` for every request; a synchronous throw and a rejected promise both answer 500. */
export function guardRequests(log: Logger, route: Route): RequestListener {
  return (req, res) => {
    const fail = (error: unknown) => {
      log.error({ err: error, method: req.method, path: loggedPath(req) }, 'HTTP request handler failed');
      // Half an answer cannot be turned into an error answer: cut the connection instead.
      if (res.headersSent) res.destroy();
      else sendJson(res, 500, { error: 'Internal server error' });
    };
    try {
      const pending = route(req, res);
      if (pending) pending.catch(fail);
    } catch (error) {
      fail(error);
    }
  };
}

/**
 * How long a refused connection is read and discarded after its answer went out. Closing a socket
 * whose peer is still sending (a request line or headers too large) makes the kernel send a reset,
 * and the client sees ECONNRESET instead of the 431 it was sent; nginx's "lingering close" is the
 * same cure. Bounded, so a client that never stops sending holds nothing for long.
 */
const LINGER_MS = 2_000;

/** Writes a bare HTTP answer on a socket no HTTP response object owns (parse errors, refused upgrades). */
export function answerRawSocket(socket: Duplex, status: number, headers: Record<string, string> = {}): void {
  if (!socket.writable) return void socket.destroy();
  const lines = Object.entries({ connection: 'close', 'content-length': '0', ...headers }).map(([name, value]) => `${name}: ${value}\r\n`);
  socket.once('finish', () => {
    // Our side is closed; drain what the peer still sends until it closes too, or the linger ends.
    const linger = setTimeout(() => socket.destroy(), LINGER_MS);
    linger.unref();
    socket.once('close', () => clearTimeout(linger));
    socket.once('end', () => socket.destroy());
    socket.on('data', () => undefined);
    socket.resume();
  });
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n${lines.join('')}\r\n`);
}

const CLIENT_ERROR_STATUS: Record<string, number> = {
  HPE_HEADER_OVERFLOW: 431,
  ERR_HTTP_REQUEST_TIMEOUT: 408,
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 413,
};

/** Requests Node cannot parse (bad request lines, oversized headers, invalid chunking) get a 4xx, not a crash. */
export function guardClientErrors(server: Server, log: Logger): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    // The peer is gone or already answered: there is nobody left to tell.
    if (error.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
    const status = CLIENT_ERROR_STATUS[error.code ?? ''] ?? 400;
    // Debug only: anyone can send these at any rate, and each says nothing about the server.
    log.debug({ code: error.code, status }, 'unparseable HTTP request refused');
    answerRawSocket(socket, status);
  });
}

/** Runs `route` for every upgrade request; a throw refuses the upgrade with 500 and a log line. */
export function guardUpgrades(log: Logger, route: UpgradeRoute): UpgradeRoute {
  return (req, socket, head) => {
    // Until the WebSocket library takes the socket, a reset from the peer would be an unhandled 'error'.
    socket.on('error', () => socket.destroy());
    try {
      route(req, socket, head);
    } catch (error) {
      log.error({ err: error, path: loggedPath(req) }, 'WebSocket upgrade handler failed');
      answerRawSocket(socket, 500);
    }
  };
}
