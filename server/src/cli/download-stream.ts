import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
// The path alone, not the feature's index: loading the remote feature was most of the CLI's start-up.
import { DOWNLOAD_STREAM_PATH } from '../features/remote/download-path.ts';
import { FILE_CHUNK_BYTES } from '@ninjait/shared';
import { LOCAL_ADMIN_HEADER } from '../platform/trpc/context.ts';
import { plainHttpGet } from './plain-http-get.ts';
import type { ByteSource } from './transfer.ts';

/** What the server's refusal says, shaped like a tRPC client error (`data.code`), so retries judge it alike. */
class StreamRefused extends Error {
  constructor(message: string, readonly data: { code: string | undefined }) {
    super(message);
  }
}

/** The largest refusal body read: a JSON error, never a file. */
const MAX_REFUSAL_BYTES = 64 * 1024;

/** A GET answered: the response, whatever its status (node:http, see `localAdminByteSource` for why not fetch). */
function get(url: URL, headers: Record<string, string>): Promise<IncomingMessage> {
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => request(url, { headers }, resolve).once('error', reject).end());
}

/** The server's `{ error: { code, message } }`, or null for anything else. */
function parseRefusal(text: string): { error?: { code?: string; message?: string } } | null {
  try {
    return JSON.parse(text) as { error?: { code?: string; message?: string } } | null;
  } catch {
    return null;
  }
}

function refusal(text: string, status: number | undefined): StreamRefused {
  const body = parseRefusal(text);
  return new StreamRefused(body?.error?.message ?? `The server answered the download with HTTP ${status}`, { code: body?.error?.code });
}

async function refusalOf(res: IncomingMessage): Promise<StreamRefused> {
  let text = '';
  for await (const piece of res) {
    text += (piece as Buffer).toString('utf8');
    if (text.length > MAX_REFUSAL_BYTES) break;
  }
  return refusal(text, res.statusCode);
}

const notStreamed = () => new StreamRefused('The server does not stream downloads (is it older than this CLI?)', { code: 'BAD_REQUEST' });

/**
 * The body's pieces (16-64 KiB as node:http reads them) joined into pieces of about a chunk:
 * the caller writes each piece as it comes, and a write per 64 KiB would be 16,000 of them per GiB.
 */
async function* inChunks(body: AsyncIterable<Buffer>): AsyncGenerator<Uint8Array> {
  let pending: Buffer[] = [];
  let bytes = 0;
  for await (const piece of body) {
    pending.push(piece);
    if ((bytes += piece.length) < FILE_CHUNK_BYTES) continue;
    yield pending.length === 1 ? pending[0]! : Buffer.concat(pending, bytes);
    pending = [];
    bytes = 0;
  }
  if (bytes > 0) yield Buffer.concat(pending, bytes);
}

/**
 * The local admin's streamed download (`GET /remote/files/download`): the device's bytes as the
 * response body, read as it arrives (the server waits while this side writes to disk). Over
 * plain HTTP (the local admin's usual `http://127.0.0.1`) with `plainHttpGet`, into reused
 * buffers: see there why. Over HTTPS with node:http rather than fetch: a body read through
 * fetch's web streams cost this process more CPU than the server spent serving it (its pieces,
 * promises and garbage), on the machine the server and the device's agent often share. A body
 * cut short fails the iteration.
 */
export function localAdminByteSource(server: { url: string; token: string }, device: { device: string; org?: string | undefined }): ByteSource {
  return async (path, from, size) => {
    const query = new URLSearchParams({ device: device.device, ...(device.org ? { org: device.org } : {}), path, offset: String(from), size: String(size) });
    const url = new URL(`${server.url}${DOWNLOAD_STREAM_PATH}?${query}`);
    const headers = { [LOCAL_ADMIN_HEADER]: server.token };
    if (url.protocol === 'http:') {
      const res = await plainHttpGet(url, headers);
      if (res.status !== 200) throw refusal(await res.text(), res.status);
      if (res.headers.get('content-type') !== 'application/octet-stream') {
        res.destroy();
        throw notStreamed();
      }
      return res.body;
    }
    const res = await get(url, headers);
    if (res.statusCode !== 200) throw await refusalOf(res);
    if (res.headers['content-type'] !== 'application/octet-stream') {
      res.destroy();
      throw notStreamed();
    }
    return inChunks(res);
  };
}
