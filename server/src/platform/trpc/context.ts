import { parse } from 'cookie';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { WebSocket } from 'ws';
import { checkProtocolVersion, deviceCredentialsSchema, PROTOCOL_VERSION_PARAM } from '@ninjait/shared';
import type { AuthenticatedDevice, CallerGate } from './caller.ts';
import { AppError } from '../errors.ts';
import { clientIp, isLoopback } from '../http/client-address.ts';
import { secretMatches } from '../secrets.ts';

export const SESSION_COOKIE = 'ninjait_session';
export const LOCAL_ADMIN_HEADER = 'x-ninjait-admin';

/** What every procedure sees: the request and, once proven, who makes it. Features get their own dependencies from their router's factory. */
export interface Context {
  /** How the caller is proven and metered (sessions, API keys, device credentials, rate limits). */
  gate: CallerGate;
  ip: string | null;
  /** From `Authorization: Bearer`, the session cookie, or WebSocket connection params: a session token or an API key (`nk_`). */
  sessionToken: string | null;
  localAdminToken: string | null;
  /** Set once per WebSocket connection when the agent's credentials check out. */
  device: AuthenticatedDevice | null;
  /**
   * What this connection has told and been told: a heartbeat whose settings did not change
   * needs no database query. Per request over HTTP, per socket over WebSocket.
   */
  agentSession: AgentSession;
  deviceAuthError: AppError | null;
  /** HTTP only: lets login and logout set the cookie. */
  setCookie: ((cookie: string) => void) | null;
  socket: WebSocket | null;
  /** The connection is TLS: cookies get `Secure`. */
  secure: boolean;
  /**
   * The request came from a web browser: it sent `Origin` or `Sec-Fetch-Site`, headers a page's
   * scripts can neither set nor remove. Such callers get the session as an HttpOnly cookie only.
   * Absent in contexts built by hand (in-process callers), which count as programs.
   */
  fromBrowser?: boolean;
}

export interface AgentSession {
  /** The heartbeat settings last written for this device (JSON), null before the first. */
  settings: string | null;
  /** The highest sequence known logged for this device: from the database, then from this connection's pushes. */
  ackSeq: number;
  /** The interval this device's settings ask for (ms), undefined when none does; read again every AGENT_SETTINGS_REFRESH_MS. */
  intervalMs?: number | undefined;
  /** When `intervalMs` was last read (epoch ms), 0 before the first read. */
  intervalReadAt: number;
}

/** Our tokens are ~50 characters; a longer "token" is only work for the hash that looks it up. */
const MAX_TOKEN_CHARS = 256;
const bounded = (token: string | null | undefined) => (token && token.length <= MAX_TOKEN_CHARS ? token : null);
/** Session tokens are URL-safe base64 with a prefix: anything else in the cookie is not one. */
const COOKIE_VALUE = /^[A-Za-z0-9_-]+$/;

/** The named cookie's value, or null when it is absent or not shaped like a token (never a throw: the header is the client's). */
/** The token of an `Authorization: Bearer` header, bounded; null without one. */
function bearerToken(req: IncomingMessage): string | null {
  return bounded(req.headers.authorization?.match(/^Bearer (.+)$/)?.[1]);
}

function readCookie(header: string | undefined, name: string): string | null {
  // The client's header: `parse` never throws on it (a bad escape is kept as sent, then fails the shape check).
  const token = header ? parse(header)[name] : undefined;
  return token !== undefined && COOKIE_VALUE.test(token) ? bounded(token) : null;
}

/**
 * A browser opens a WebSocket to any site with that site's cookies and no CORS check: the cookie
 * only counts on a socket opened by the server's own pages (or by non-browsers, which send no Origin).
 */
function crossSite(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (!origin) return false;
  try {
    return new URL(origin).host !== req.headers.host;
  } catch {
    return true;
  }
}

/** Browsers send these on every fetch and WebSocket upgrade; programs (CLI, agents, scripts) do not. */
const isFromBrowser = (req: IncomingMessage) => req.headers.origin !== undefined || req.headers['sec-fetch-site'] !== undefined;

/** What the tRPC adapters (HTTP and WebSocket) hand to createContext. */
export interface ContextOptions {
  req: IncomingMessage;
  res: ServerResponse | WebSocket;
  info: { connectionParams: Record<string, string | undefined> | null };
}

export async function createContext(gate: CallerGate, opts: ContextOptions): Promise<Context> {
  const { req, res, info } = opts;
  const params = info.connectionParams ?? {};
  const ip = clientIp(req);
  const bearer = bearerToken(req);
  const isHttp = 'setHeader' in res;
  const context: Context = {
    gate,
    ip,
    sessionToken: bearer ?? bounded(params.sessionToken) ?? (isHttp || !crossSite(req) ? readCookie(req.headers.cookie, SESSION_COOKIE) : null),
    localAdminToken: isLoopback(ip) ? bounded(req.headers[LOCAL_ADMIN_HEADER] as string | undefined) : null,
    device: null,
    agentSession: { settings: null, ackSeq: 0, intervalReadAt: 0 },
    deviceAuthError: null,
    setCookie: isHttp ? (cookie) => (res as ServerResponse).appendHeader('set-cookie', cookie) : null,
    socket: isHttp ? null : (res as WebSocket),
    secure: 'encrypted' in req.socket && Boolean((req.socket as { encrypted?: boolean }).encrypted),
    fromBrowser: isFromBrowser(req),
  };
  if (params.deviceId !== undefined || params.deviceSecret !== undefined) {
    const { [PROTOCOL_VERSION_PARAM]: protocolVersion, ...credentialParams } = params;
    const credentials = deviceCredentialsSchema.safeParse(credentialParams);
    const protocol = checkProtocolVersion(protocolVersion);
    try {
      // Checked before the credentials: an agent the server cannot understand is told so, not half-served.
      if (!protocol.ok) throw new AppError('PRECONDITION_FAILED', protocol.message);
      if (!credentials.success) throw new AppError('UNAUTHORIZED', 'Device credentials are malformed');
      context.device = await gate.devices.authenticate(credentials.data.deviceId, credentials.data.deviceSecret);
      if (context.socket) gate.devices.connected(context.device.deviceId, context.socket, protocol.version);
    } catch (error) {
      context.deviceAuthError = error instanceof AppError ? error : new AppError('SERVICE_UNAVAILABLE', 'Could not check device credentials', { cause: error });
      // A well-formed id with a refused secret: the console tells the device's admins (throttled, never awaited).
      if (credentials.success && error instanceof AppError && error.code === 'UNAUTHORIZED') {
        gate.devices.refused(credentials.data.deviceId, ip);
      }
      // The context lives as long as the socket: a transient failure (database down) must not
      // stick to it, so close and let the agent reconnect and authenticate again.
      if (!(error instanceof AppError)) context.socket?.close(1013, 'try again later');
    }
  }
  return context;
}

/**
 * The address of a plain HTTP request (outside tRPC, such as a streamed download) that carries
 * the local admin's credential from this machine; null when it does not. The same test as
 * `localAdminProcedure`'s.
 */
export function localAdminAddress(req: IncomingMessage, tokenHash: string): { ip: string | null } | null {
  const ip = clientIp(req);
  const token = isLoopback(ip) ? bounded(req.headers[LOCAL_ADMIN_HEADER] as string | undefined) : null;
  return token && secretMatches(token, tokenHash) ? { ip } : null;
}

/**
 * A plain HTTP request's session token or API key (outside tRPC, such as a streamed download),
 * read as `createContext` reads it: `Authorization: Bearer`, else the session cookie. Which one
 * it came in matters: a browser attaches the cookie by itself, so the caller may ask more of it.
 */
export function httpCredential(req: IncomingMessage): { token: string; via: 'bearer' | 'cookie' } | null {
  const bearer = bearerToken(req);
  if (bearer) return { token: bearer, via: 'bearer' };
  const cookie = readCookie(req.headers.cookie, SESSION_COOKIE);
  return cookie ? { token: cookie, via: 'cookie' } : null;
}

/**
 * Whether the connection proved who it is: valid device credentials, a live session, or the local
 * admin's credential from this machine. A WebSocket that has none of them is closed after a deadline.
 */
export async function hasCredentials(context: Context): Promise<boolean> {
  if (context.device) return true;
  if (context.localAdminToken && secretMatches(context.localAdminToken, context.gate.localAdminTokenHash)) return true;
  if (!context.sessionToken) return false;
  return (await context.gate.session(context.sessionToken).catch(() => null)) !== null;
}
