import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { FILE_CHUNK_BYTES, MAX_TRANSFER_BYTES, TRANSFER_WINDOW, pumpChunks, remoteOps, type Role } from '@ninjait/shared';
import { AppError } from '../../platform/errors.ts';
import { DOWNLOAD_STREAM_PATH } from './download-path.ts';
import { personOf, personQuery, transferHandler, type TransferCallers, type TransferRule } from './transfer-caller.ts';
import type { RelayTarget } from './stream-relay.ts';

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

/** What the route needs, typed by shape: the one service call and how to recognize callers. */
export interface DownloadRouteDeps<Caller> extends TransferCallers<Caller> {
  service: { openDownload(caller: Caller, ref: { device: string; org?: string }): Promise<DownloadReader> };
}

/** How the route reads a device's file: a stream of the whole range when the device opens one, else chunks. */
export interface DownloadReader {
  chunk(path: string, offset: number, length: number): Promise<Buffer>;
  stream(path: string, offset: number, length: number, into: RelayTarget, signal: AbortSignal): Promise<'streamed' | 'unavailable'>;
}

const RULE: TransferRule = { procedure: CHUNK_PROCEDURE, header: DOWNLOAD_HEADER, what: 'Downloads' };

/**
 * `GET /remote/files/download?device=…&path=…&offset=…&size=…`: the bytes [offset, size) of a
 * device's file as `application/octet-stream`. A range longer than a chunk is first offered to
 * the device as a stream on a connection of its own (`download-streams.ts`), copied through one
 * ring of a window's size. Otherwise (a short range, or no stream came) the server asks the device for TRANSFER_WINDOW
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
    const requester = admin ?? await personOf(deps, RULE, req);
    const q = querySchema.parse(Object.fromEntries(query));
    if (!admin) personQuery.parse({ device: q.device, org: q.org });
    const reader = await deps.service.openDownload(requester, { device: q.device, ...(q.org ? { org: q.org } : {}) });
    const gone = new AbortController();
    res.once('close', () => gone.abort());
    res.writeHead(200, {
      'content-type': 'application/octet-stream', 'content-length': String(q.size - q.offset), 'cache-control': 'no-store',
      // Bytes from a device are never a page of this site, whatever they look like.
      'x-content-type-options': 'nosniff', 'content-disposition': 'attachment',
    });
    const into: RelayTarget = { write: (chunk, done) => res.write(chunk, done), end: (done) => void res.end(done) };
    try {
      const length = q.size - q.offset;
      if (length > FILE_CHUNK_BYTES && await reader.stream(q.path, q.offset, length, into, gone.signal) === 'streamed') return;
      await pumpChunks({
        from: q.offset, size: q.size, chunkBytes: FILE_CHUNK_BYTES, window: TRANSFER_WINDOW, signal: gone.signal,
        send: (offset, length) => reader.chunk(q.path, offset, length),
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

  return transferHandler({ path: DOWNLOAD_STREAM_PATH, method: 'GET', what: 'download', wrongMethod: 'Downloads use GET', serve, onError: deps.onError });
}
