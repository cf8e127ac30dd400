import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import { z } from 'zod';
import { API_KEY_PREFIX, FILE_CHUNK_BYTES, MAX_TRANSFER_BYTES, TRANSFER_WINDOW, pumpChunks, remoteOps, roleAtLeast, type Role } from '@ninjait/shared';
import { AppError } from '../../platform/errors.ts';
import { clientIp } from '../../platform/http/client-address.ts';
import { sendJson } from '../../platform/http/probes.ts';
import { requestTarget } from '../../platform/http/request-target.ts';
import type { CallerGate, SessionUser } from '../../platform/trpc/caller.ts';
import { httpCredential } from '../../platform/trpc/context.ts';
import { DOWNLOAD_STREAM_PATH } from './download-path.ts';

/**
 * The header the console sends with its session cookie here (see `personOf` for why), and the
 * value it must have.
 */
export const DOWNLOAD_HEADER = 'x-ninjait-download';

/**
 * The chunk procedure whose rules a person's stream follows: the role it needs (remote.router.ts
 * builds it with this one), and the path an API key's scopes are checked against, so a key that may
 * download chunks may stream, and no other key.
 */
export const CHUNK_PROCEDURE = { path: 'remote.files.downloadChunk', role: 'technician' } as const satisfies { path: string; role: Role };

const bytes = z.coerce.number().int().min(0).max(MAX_TRANSFER_BYTES);
/** The query, bounded like any tRPC input: the device as `ninjait run` names it, the range [offset, size). */
const querySchema = z.object({
  device: z.string().min(1).max(255),
  org: z.string().min(1).max(255).optional(),
  path: remoteOps['fs.downloadChunk'].shape.path,
  offset: bytes,
  size: bytes,
}).strict().refine((q) => q.offset <= q.size, 'offset is past size');

/** What the route needs, typed by shape: the one service call and how to recognize the local admin and people. */
export interface DownloadRouteDeps<Caller> {
  service: { openDownload(caller: Caller, ref: { device: string; org?: string }): Promise<(path: string, offset: number, length: number) => Promise<Buffer>> };
  /** The local admin (the credential file from DATA_DIR, from this machine), or null. */
  localAdmin(req: IncomingMessage): Caller | null;
  /** How a session token or an API key is proven: the gate the procedures use. */
  people: Pick<CallerGate, 'session' | 'apiKey'>;
  /** A proven person (or API key) as the service's caller: scoped to their organization. */
  person(user: SessionUser, ip: string | null): Caller;
  onError(error: unknown): void;
}

/** People name the device by its id, like `remote.files.downloadChunk`; names and `org` are the local CLI's. */
const personQuery = z.object({ device: z.uuid(), org: z.undefined({ error: 'org is for the local CLI; people name the device by id' }) });

/**
 * The person (or API key) calling, held to what `remote.files.downloadChunk` asks of them: a live
 * session or a key whose scopes allow that procedure, no pending two-factor setup, the technician
 * role. Chunks are not metered (userProcedure's `metered: false`), so neither is the stream.
 */
async function personOf<Caller>(deps: DownloadRouteDeps<Caller>, req: IncomingMessage): Promise<Caller> {
  const credential = httpCredential(req);
  if (!credential) throw new AppError('UNAUTHORIZED', 'Log in first: no valid session');
  // The browser attaches the session cookie to any request for this address, whichever site
  // made it; SameSite=Strict keeps it off cross-site requests in current browsers, but not off
  // every client, nor off a same-site sibling. A header a page's scripts may only set on a
  // same-origin fetch (cross-origin, it needs a CORS preflight this server never grants) proves
  // the console asked. A stray GET could only have read bytes the other site cannot see, yet it
  // would still make the device read the file; the header keeps even that from happening.
  if (credential.via === 'cookie' && req.headers[DOWNLOAD_HEADER] !== '1') {
    throw new AppError('FORBIDDEN', `Downloads with the session cookie need the ${DOWNLOAD_HEADER}: 1 header, as the console sends it`);
  }
  const ip = clientIp(req);
  const user = credential.token.startsWith(API_KEY_PREFIX)
    ? await deps.people.apiKey(credential.token, CHUNK_PROCEDURE.path, 'mutation', ip)
    : await deps.people.session(credential.token);
  if (!user) throw new AppError('UNAUTHORIZED', 'Log in first: no valid session');
  if (user.restricted) throw new AppError('FORBIDDEN', 'Your organization requires two-factor sign-in: set it up under My account first');
  if (!roleAtLeast(user.role, CHUNK_PROCEDURE.role)) throw new AppError('FORBIDDEN', `This needs the ${CHUNK_PROCEDURE.role} role or higher`);
  return deps.person(user, ip);
}

/** The refusal as tRPC would send it: the status for the code, and `{ error: { code, message } }`. */
function refuse(res: ServerResponse, error: unknown) {
  const appError = error instanceof AppError ? error
    : error instanceof z.ZodError ? new AppError('BAD_REQUEST', error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '))
    : new AppError('SERVICE_UNAVAILABLE', 'The download could not start; try again');
  sendJson(res, getHTTPStatusCodeFromError(appError), { error: { code: appError.code, message: appError.message } });
}

/**
 * `GET /remote/files/download?device=…&path=…&offset=…&size=…`: the bytes [offset, size) of a
 * device's file as `application/octet-stream`. The server asks the device for TRANSFER_WINDOW
 * chunks at a time (they come back as binary frames) and writes them in order, waiting for the
 * caller to read (the response's `drain`) before asking for more, so it holds at most a window
 * of chunks whatever the file's size. The caller begins with `downloadBegin` (audited, and the
 * SHA-256 it checks against) and resumes by asking again from what it has.
 *
 * Who may: the local admin (`ninjait cp`, any organization, devices by name or id), or a person
 * (session by cookie or bearer token, or an API key) under `remote.files.downloadChunk`'s rules:
 * the device by id, within their organization (another's is NOT_FOUND, as for a chunk), approved.
 */
export function downloadRoute<Caller>(deps: DownloadRouteDeps<Caller>) {
  async function serve(req: IncomingMessage, res: ServerResponse, query: URLSearchParams) {
    const admin = deps.localAdmin(req);
    const requester = admin ?? await personOf(deps, req);
    const q = querySchema.parse(Object.fromEntries(query));
    if (!admin) personQuery.parse({ device: q.device, org: q.org });
    const read = await deps.service.openDownload(requester, { device: q.device, ...(q.org ? { org: q.org } : {}) });
    const gone = new AbortController();
    res.once('close', () => gone.abort());
    res.writeHead(200, {
      'content-type': 'application/octet-stream', 'content-length': String(q.size - q.offset), 'cache-control': 'no-store',
      // Bytes from a device are never a page of this site, whatever they look like.
      'x-content-type-options': 'nosniff', 'content-disposition': 'attachment',
    });
    try {
      await pumpChunks({
        from: q.offset, size: q.size, chunkBytes: FILE_CHUNK_BYTES, window: TRANSFER_WINDOW, signal: gone.signal,
        send: (offset, length) => read(q.path, offset, length),
        async receive(data, offset, length) {
          // The file shrank on the device: the body ends short, and the caller says so.
          if (data.length !== length) throw new AppError('CONFLICT', `${q.path} changed size on the device at ${offset}`);
          if (!res.write(data)) await once(res, 'drain', { signal: gone.signal });
        },
      });
      res.end();
    } catch (error) {
      // Headers are out: a body cut short (content-length unmet) is how the caller learns it.
      res.destroy();
      if (!gone.signal.aborted) deps.onError(error);
    }
  }

  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const { path, query } = requestTarget(req);
    if (path !== DOWNLOAD_STREAM_PATH) return false;
    if (req.method !== 'GET') {
      res.setHeader('allow', 'GET');
      sendJson(res, 405, { error: { code: 'METHOD_NOT_SUPPORTED', message: 'Downloads use GET' } });
      return true;
    }
    void serve(req, res, query).catch((error: unknown) => {
      if (!(error instanceof AppError || error instanceof z.ZodError)) deps.onError(error);
      if (res.headersSent) return void res.destroy();
      refuse(res, error);
    });
    return true;
  };
}
