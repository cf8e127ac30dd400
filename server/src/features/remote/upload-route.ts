import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { FILE_CHUNK_BYTES, MAX_TRANSFER_BYTES, remoteOps, type RemoteResult, type Role } from '@ninjait/shared';
import { AppError } from '../../platform/errors.ts';
import { sendJson } from '../../platform/http/probes.ts';
import type { UploadChunk } from './device-rpc.ts';
import { personOf, personQuery, transferHandler, type TransferCallers, type TransferRule } from './transfer-caller.ts';
import { UPLOAD_CHUNK_PATH, UPLOAD_HEADER } from './upload-path.ts';

/** The procedure whose rules the route follows (role, and an API key's scopes): a key that may send chunks may send them here. */
export const UPLOAD_CHUNK_PROCEDURE = { path: 'remote.files.uploadChunk', role: 'technician' } as const satisfies { path: string; role: Role };

const RULE: TransferRule = { procedure: UPLOAD_CHUNK_PROCEDURE, header: UPLOAD_HEADER, what: 'Uploads' };

const bytes = z.coerce.number().int().min(0).max(MAX_TRANSFER_BYTES);
const chunkOp = remoteOps['fs.uploadChunk'].shape;
/** The query, bounded like the procedure's input: the device as `ninjait run` names it, the chunk's place in a file of `size` bytes. */
const querySchema = z.object({
  device: z.string().min(1).max(255),
  org: z.string().min(1).max(255).optional(),
  transferId: chunkOp.transferId,
  path: chunkOp.path,
  offset: bytes,
  size: bytes,
}).strict().refine((q) => q.offset < q.size, 'offset is at or past size');

/** What the route needs, typed by shape: the one service call and how to recognize callers. */
export interface UploadRouteDeps<Caller> extends TransferCallers<Caller> {
  service: { openUpload(caller: Caller, ref: { device: string; org?: string }): Promise<(chunk: UploadChunk) => Promise<RemoteResult<'fs.uploadChunk'>>> };
}

const tooLarge = (limit: number) => new AppError('PAYLOAD_TOO_LARGE', `A chunk here is at most ${limit} bytes (FILE_CHUNK_BYTES, and no further than the file's size)`);

/**
 * The request's body as the pieces it arrived in, refused past `limit` bytes (announced or sent)
 * without reading the rest: a chunk is held in memory, so its size is bounded before it is.
 */
async function bodyOf(req: IncomingMessage, limit: number): Promise<Buffer[]> {
  const announced = Number(req.headers['content-length'] ?? Number.NaN);
  if (announced > limit) throw tooLarge(limit);
  const pieces: Buffer[] = [];
  let total = 0;
  for await (const piece of req as AsyncIterable<Buffer>) {
    if ((total += piece.length) > limit) throw tooLarge(limit);
    pieces.push(piece);
  }
  if (total === 0) throw new AppError('BAD_REQUEST', 'The chunk is empty');
  return pieces;
}

/**
 * `POST /remote/files/upload?device=…&transferId=…&path=…&offset=…&size=…`: one upload chunk's
 * bytes as the body (`application/octet-stream`, at most FILE_CHUNK_BYTES), answered with
 * `{ offset }` where the device's partial file ends, as `remote.files.uploadChunk` answers. The
 * bytes stay bytes: to the device as a binary frame when its socket is on this instance (JSON
 * base64 otherwise). Callers keep TRANSFER_WINDOW chunks in flight; the upload is begun with
 * `uploadBegin` and finished (checked, audited with its SHA-256) with `uploadFinish`.
 *
 * Who may: the local admin (`ninjait cp`, any organization, devices by name or id), or a person
 * (session by cookie with UPLOAD_HEADER, bearer token, or an API key) under
 * `remote.files.uploadChunk`'s rules: the device by id, within their organization (another's is
 * NOT_FOUND, as for a chunk call), approved.
 */
export function uploadRoute<Caller>(deps: UploadRouteDeps<Caller>) {
  async function serve(req: IncomingMessage, res: ServerResponse, query: URLSearchParams) {
    const admin = deps.localAdmin(req);
    const requester = admin ?? await personOf(deps, RULE, req);
    const q = querySchema.parse(Object.fromEntries(query));
    if (!admin) personQuery.parse({ device: q.device, org: q.org });
    const write = await deps.service.openUpload(requester, { device: q.device, ...(q.org ? { org: q.org } : {}) });
    const data = await bodyOf(req, Math.min(FILE_CHUNK_BYTES, q.size - q.offset));
    sendJson(res, 200, await write({ transferId: q.transferId, path: q.path, offset: q.offset, data }));
  }

  return transferHandler({ path: UPLOAD_CHUNK_PATH, method: 'POST', what: 'upload', wrongMethod: 'Upload chunks use POST', serve, onError: deps.onError });
}
