import type { IncomingMessage, ServerResponse } from 'node:http';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import { z } from 'zod';
import { API_KEY_PREFIX, roleAtLeast, type Role } from '@ninjait/shared';
import { AppError } from '../../platform/errors.ts';
import { clientIp } from '../../platform/http/client-address.ts';
import { sendJson } from '../../platform/http/probes.ts';
import { requestTarget } from '../../platform/http/request-target.ts';
import type { CallerGate, SessionUser } from '../../platform/trpc/caller.ts';
import { httpCredential } from '../../platform/trpc/context.ts';

/** How the transfer routes (streamed download, binary upload chunk) recognize who is calling. */
export interface TransferCallers<Caller> {
  /** The local admin (the credential file from DATA_DIR, from this machine), or null. */
  localAdmin(req: IncomingMessage): Caller | null;
  /** How a session token or an API key is proven: the gate the procedures use. */
  people: Pick<CallerGate, 'session' | 'apiKey'>;
  /** A proven person (or API key) as the service's caller: scoped to their organization. */
  person(user: SessionUser, ip: string | null): Caller;
  onError(error: unknown): void;
}

/**
 * What a route asks of a person: the rules of the tRPC procedure it stands beside (its path, for
 * an API key's scopes, and its role), and the header the console sends with its session cookie.
 */
export interface TransferRule { procedure: { path: string; role: Role }; header: string; what: string }

/** People name the device by its id, like the procedures; names and `org` are the local CLI's. */
export const personQuery = z.object({ device: z.uuid(), org: z.undefined({ error: 'org is for the local CLI; people name the device by id' }) });

/**
 * The person (or API key) calling, held to what the rule's procedure asks of them: a live
 * session or a key whose scopes allow that procedure, no pending two-factor setup, the role.
 * Chunks are not metered (userProcedure's `metered: false`), so neither are these routes.
 */
export async function personOf<Caller>(deps: TransferCallers<Caller>, rule: TransferRule, req: IncomingMessage): Promise<Caller> {
  const credential = httpCredential(req);
  if (!credential) throw new AppError('UNAUTHORIZED', 'Log in first: no valid session');
  // The browser attaches the session cookie to any request for this address, whichever site
  // made it; SameSite=Strict keeps it off cross-site requests in current browsers, but not off
  // every client, nor off a same-site sibling. A header a page's scripts may only set on a
  // same-origin fetch (cross-origin, it needs a CORS preflight this server never grants) proves
  // the console asked: another site can neither make the device read a file nor write one.
  if (credential.via === 'cookie' && req.headers[rule.header] !== '1') {
    throw new AppError('FORBIDDEN', `${rule.what} with the session cookie need the ${rule.header}: 1 header, as the console sends it`);
  }
  const ip = clientIp(req);
  const user = credential.token.startsWith(API_KEY_PREFIX)
    ? await deps.people.apiKey(credential.token, rule.procedure.path, 'mutation', ip)
    : await deps.people.session(credential.token);
  if (!user) throw new AppError('UNAUTHORIZED', 'Log in first: no valid session');
  if (user.restricted) throw new AppError('FORBIDDEN', 'Your organization requires two-factor sign-in: set it up under My account first');
  if (!roleAtLeast(user.role, rule.procedure.role)) throw new AppError('FORBIDDEN', `This needs the ${rule.procedure.role} role or higher`);
  return deps.person(user, ip);
}

/** The refusal as tRPC would send it: the status for the code, and `{ error: { code, message } }`. */
export function refuse(res: ServerResponse, error: unknown, what: string) {
  const appError = error instanceof AppError ? error
    : error instanceof z.ZodError ? new AppError('BAD_REQUEST', error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '))
    : new AppError('SERVICE_UNAVAILABLE', `The ${what} could not be done; try again`);
  sendJson(res, getHTTPStatusCodeFromError(appError), { error: { code: appError.code, message: appError.message } });
}

/** One transfer route: its path and method, what it does (for refusals), and how it serves. */
export interface TransferRoute {
  path: string;
  method: 'GET' | 'POST';
  /** "upload", "download": named in a refusal the route could not explain. */
  what: string;
  /** The 405's message for another method. */
  wrongMethod: string;
  serve(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<void>;
  onError(error: unknown): void;
}

/**
 * The route as the HTTP server's handler: false for another path; the wrong method answered 405
 * with Allow; a failure answered as tRPC would (an unexpected one reported through `onError`),
 * or the socket destroyed once the response had begun.
 */
export function transferHandler(route: TransferRoute) {
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const { path, query } = requestTarget(req);
    if (path !== route.path) return false;
    if (req.method !== route.method) {
      res.setHeader('allow', route.method);
      sendJson(res, 405, { error: { code: 'METHOD_NOT_SUPPORTED', message: route.wrongMethod } });
      return true;
    }
    void route.serve(req, res, query).catch((error: unknown) => {
      if (!(error instanceof AppError || error instanceof z.ZodError)) route.onError(error);
      if (res.headersSent) return void res.destroy();
      // A body refused unread (too large, or before the caller was known) is not read to its end:
      // the connection goes with it, so its remaining bytes are not taken for the next request.
      if (route.method === 'POST' && !req.readableEnded) res.setHeader('connection', 'close');
      refuse(res, error, route.what);
    });
    return true;
  };
}
