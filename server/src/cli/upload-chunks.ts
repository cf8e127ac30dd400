import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { TRANSFER_WINDOW } from '@ninjait/shared';
// The path alone, not the feature's index: loading the remote feature was most of the CLI's start-up.
import { UPLOAD_CHUNK_PATH } from '../features/remote/upload-path.ts';
import { LOCAL_ADMIN_HEADER } from '../platform/trpc/context.ts';
import type { ChunkSink } from './transfer.ts';

/** The largest answer read: `{ offset }`, or a JSON error. */
const MAX_ANSWER_BYTES = 64 * 1024;

/** What the server's refusal says, shaped like a tRPC client error (`data.code`), so retries judge it alike. */
class ChunkRefused extends Error {
  constructor(message: string, readonly data: { code: string | undefined }) {
    super(message);
  }
}

async function textOf(res: IncomingMessage): Promise<string> {
  let text = '';
  for await (const piece of res) {
    text += (piece as Buffer).toString('utf8');
    if (text.length > MAX_ANSWER_BYTES) break;
  }
  return text;
}

function parsed(text: string): { offset?: unknown; error?: { code?: string; message?: string } } | null {
  try {
    return JSON.parse(text) as { offset?: unknown; error?: { code?: string; message?: string } } | null;
  } catch {
    return null;
  }
}

/**
 * The local admin's upload chunks as HTTP bodies (`POST /remote/files/upload`), the bytes read
 * from the file sent as they are: no base64, no JSON around them. Connections are kept alive
 * and as many as the window, so chunks in flight do not wait for one another's connection. A
 * refusal is thrown with its code (CONFLICT, NOT_FOUND…); a dropped connection without one,
 * which `withResume` takes for a dropped connection.
 */
export function localAdminChunkSink(server: { url: string; token: string }, device: { device: string; org?: string | undefined }): ChunkSink & { close(): void } {
  const https = server.url.startsWith('https:');
  const agent = https ? new HttpsAgent({ keepAlive: true, maxSockets: TRANSFER_WINDOW }) : new HttpAgent({ keepAlive: true, maxSockets: TRANSFER_WINDOW });
  const request = https ? httpsRequest : httpRequest;
  const sink = async (chunk: Parameters<ChunkSink>[0]) => {
    const query = new URLSearchParams({
      device: device.device, ...(device.org ? { org: device.org } : {}),
      transferId: chunk.transferId, path: chunk.path, offset: String(chunk.offset), size: String(chunk.size),
    });
    const url = new URL(`${server.url}${UPLOAD_CHUNK_PATH}?${query}`);
    const headers = { [LOCAL_ADMIN_HEADER]: server.token, 'content-type': 'application/octet-stream', 'content-length': String(chunk.data.length) };
    const res = await new Promise<IncomingMessage>((resolve, reject) => request(url, { method: 'POST', headers, agent, ...(chunk.signal ? { signal: chunk.signal } : {}) }, resolve).once('error', reject).end(chunk.data));
    const body = parsed(await textOf(res));
    if (res.statusCode === 200 && typeof body?.offset === 'number') return { offset: body.offset };
    if (res.statusCode === 404 && !body?.error) throw new ChunkRefused('The server does not take upload chunks over HTTP (is it older than this CLI?)', { code: 'BAD_REQUEST' });
    throw new ChunkRefused(body?.error?.message ?? `The server answered the upload chunk with HTTP ${res.statusCode}`, { code: body?.error?.code });
  };
  return Object.assign(sink, { close: () => agent.destroy() });
}
