import type { IncomingMessage, ServerResponse } from 'node:http';
import type { WebSocket } from 'ws';
import { deviceCredentialsSchema } from '@ninjait/shared';
import type { Services } from '../app/services.ts';
import { authenticateDevice, type AuthenticatedDevice } from '../domain/devices.ts';
import { AppError } from '../errors.ts';

export const SESSION_COOKIE = 'ninjait_session';
export const LOCAL_ADMIN_HEADER = 'x-ninjait-admin';

export interface Context {
  services: Services;
  ip: string | null;
  /** From `Authorization: Bearer`, the session cookie, or WebSocket connection params. */
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
}

export interface AgentSession {
  /** The heartbeat settings last written for this device (JSON), null before the first. */
  settings: string | null;
  /** The highest sequence known logged for this device: from the database, then from this connection's pushes. */
  ackSeq: number;
}

function readCookie(header: string | undefined, name: string): string | null {
  for (const part of header?.split(';') ?? []) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return decodeURIComponent(value.join('='));
  }
  return null;
}

function clientIp(req: IncomingMessage): string | null {
  const address = req.socket.remoteAddress ?? null;
  return address?.startsWith('::ffff:') ? address.slice(7) : address;
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

const isLoopback = (ip: string | null) => ip === '127.0.0.1' || ip === '::1' || (ip?.startsWith('127.') ?? false);

export async function createContext(
  services: Services,
  opts: { req: IncomingMessage; res: ServerResponse | WebSocket; info: { connectionParams: Record<string, string | undefined> | null } },
): Promise<Context> {
  const { req, res, info } = opts;
  const params = info.connectionParams ?? {};
  const ip = clientIp(req);
  const bearer = req.headers.authorization?.match(/^Bearer (.+)$/)?.[1] ?? null;
  const isHttp = 'setHeader' in res;
  const context: Context = {
    services,
    ip,
    sessionToken: bearer ?? params.sessionToken ?? (isHttp || !crossSite(req) ? readCookie(req.headers.cookie, SESSION_COOKIE) : null),
    localAdminToken: isLoopback(ip) ? ((req.headers[LOCAL_ADMIN_HEADER] as string | undefined) ?? null) : null,
    device: null,
    agentSession: { settings: null, ackSeq: 0 },
    deviceAuthError: null,
    setCookie: isHttp ? (cookie) => (res as ServerResponse).appendHeader('set-cookie', cookie) : null,
    socket: isHttp ? null : (res as WebSocket),
    secure: 'encrypted' in req.socket && Boolean((req.socket as { encrypted?: boolean }).encrypted),
  };
  if (params.deviceId !== undefined || params.deviceSecret !== undefined) {
    const credentials = deviceCredentialsSchema.safeParse(params);
    try {
      if (!credentials.success) throw new AppError('UNAUTHORIZED', 'Device credentials are malformed');
      context.device = await authenticateDevice(services.db, credentials.data.deviceId, credentials.data.deviceSecret);
      if (context.socket) services.agents.add(context.device.deviceId, context.socket);
    } catch (error) {
      context.deviceAuthError = error instanceof AppError ? error : new AppError('SERVICE_UNAVAILABLE', 'Could not check device credentials', { cause: error });
      // The context lives as long as the socket: a transient failure (database down) must not
      // stick to it, so close and let the agent reconnect and authenticate again.
      if (!(error instanceof AppError)) context.socket?.close(1013, 'try again later');
    }
  }
  return context;
}
