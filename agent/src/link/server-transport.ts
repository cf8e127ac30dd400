import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type Socket } from 'node:net';
import type { ClientOptions } from 'ws';
import { UsageError } from '../config/env.ts';
import { nodeFetch, type FetchLike } from './node-fetch.ts';
import { serverPathUrl } from './ws-url.ts';
import { tlsConnector, type TlsTrust } from './tls-connect.ts';

/** Plain http:// to a server beyond this machine, without the person saying they accept it. */
export class InsecureServerError extends UsageError {
  constructor(server: string) {
    super(
      `refusing plain http:// to ${server}: the enrollment token, the device secret and everything the agent sends ` +
      'would cross the network unencrypted and unauthenticated. Use the server\'s https:// URL, or pass --insecure ' +
      '(env NINJAIT_INSECURE=1) on both "enroll" and "run" to accept that risk (loopback addresses need neither).',
    );
  }
}

/** 127.0.0.0/8, ::1 and localhost: traffic that never leaves the machine. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '0:0:0:0:0:0:0:1';
}

/** Throws InsecureServerError for http:// beyond loopback unless `insecure`. */
export function assertTransportAllowed(server: string, insecure: boolean): void {
  const url = new URL(server);
  if (url.protocol === 'http:' && !insecure && !isLoopbackHost(url.hostname)) throw new InsecureServerError(server);
}

/** How the agent reaches its server: one trust decision for HTTP calls, the WebSocket and upgrades. */
export interface ServerTransport {
  fetch: FetchLike;
  /** Options for `ws`: a wss:// handshake goes through the same pinned connector. */
  ws: ClientOptions;
  /**
   * A connection of its own to the server, upgraded to `protocol` at `path` (below the server
   * URL's prefix, as /trpc is): the socket once the server answered 101.
   */
  upgrade(path: string, protocol: string, headers: Record<string, string>): Promise<Socket>;
}

/** An upgrade the server has not answered by then is abandoned. */
const UPGRADE_TIMEOUT_MS = 15_000;

/**
 * The transport for `server` with `trust` (pins or CAs; see TlsTrust); plain http:// needs none.
 * Pins are the server's: HTTPS to another origin (a download host) is checked against the CAs.
 */
export function serverTransport(server: string, trust: TlsTrust): ServerTransport {
  const base = new URL(server);
  const pinned = tlsConnector(trust);
  const other = tlsConnector({ pins: () => [], ca: trust.ca });
  return {
    fetch: nodeFetch((url) => (url.origin === base.origin ? pinned : other)),
    // `ws` uses createConnection for ws:// too, so it is set only where TLS is spoken.
    ws: base.protocol === 'https:' ? { createConnection: pinned as never } : {},
    upgrade: (path, protocol, headers) => new Promise<Socket>((resolve, reject) => {
      const url = serverPathUrl(base, path);
      const options = { method: 'GET', headers: { ...headers, connection: 'Upgrade', upgrade: protocol }, timeout: UPGRADE_TIMEOUT_MS };
      const req = url.protocol === 'https:' ? httpsRequest(url, { ...options, createConnection: pinned as never }) : httpRequest(url, { ...options, agent: false });
      req.once('upgrade', (_res: IncomingMessage, socket: Socket, head: Buffer) => {
        socket.setTimeout(0);
        if (head.length > 0) socket.unshift(head);
        resolve(socket);
      });
      req.once('response', (res: IncomingMessage) => {
        res.resume();
        reject(new Error(`the server answered ${res.statusCode ?? 0} instead of opening the ${protocol} connection`));
      });
      req.once('timeout', () => req.destroy(Object.assign(new Error(`the server did not open the ${protocol} connection within ${UPGRADE_TIMEOUT_MS / 1000} s`), { code: 'ETIMEDOUT' })));
      req.once('error', reject);
      req.end();
    }),
  };
}

/** A trust with a fixed set of pins (empty: CA validation). */
export function fixedTrust(pins: readonly string[] | null, extra: Omit<TlsTrust, 'pins'> = {}): TlsTrust {
  const list = pins ?? [];
  return { ...extra, pins: () => list };
}
