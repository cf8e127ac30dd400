import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import type { Connector } from './tls-connect.ts';

/** The part of `fetch` the agent uses: tRPC's httpLink, update checks and downloads. */
export type FetchLike = (input: string | URL, init?: RequestInit) => Promise<Response>;

/** Statuses a Response may not carry a body with. */
const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

/**
 * `fetch` over node:http(s), so HTTPS goes through a connector (the pinned TLS of tls-connect.ts)
 * and failures keep Node's own error (ECONNREFUSED, a certificate code) instead of undici's
 * "fetch failed". Redirects are returned, not followed: nothing the agent calls redirects.
 */
export function nodeFetch(connectorFor: (url: URL) => Connector): FetchLike {
  return (input, init = {}) => new Promise<Response>((resolve, reject) => {
    const url = new URL(input);
    const signal = init.signal ?? undefined;
    if (signal?.aborted) return reject(signal.reason as Error);
    const body = requestBody(init.body);
    const headers: OutgoingHttpHeaders = Object.fromEntries(new Headers(init.headers));
    if (body !== undefined) headers['content-length'] = Buffer.byteLength(body);
    const options = { method: init.method ?? 'GET', headers, signal };
    const req = url.protocol === 'https:'
      ? httpsRequest(url, { ...options, createConnection: connectorFor(url) as never })
      : httpRequest(url, options);
    req.once('error', reject);
    req.once('response', (res: IncomingMessage) => {
      const responseHeaders = new Headers();
      for (const [name, value] of Object.entries(res.headers)) {
        for (const item of Array.isArray(value) ? value : value === undefined ? [] : [value]) responseHeaders.append(name, item);
      }
      const status = res.statusCode ?? 0;
      const stream = NULL_BODY_STATUS.has(status) || options.method === 'HEAD' ? null : Readable.toWeb(res) as ReadableStream<Uint8Array>;
      if (!stream) res.resume();
      resolve(new Response(stream, { status, statusText: res.statusMessage ?? '', headers: responseHeaders }));
    });
    req.end(body);
  });
}

function requestBody(body: RequestInit['body']): string | Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return body;
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  throw new TypeError('this fetch sends strings and bytes only');
}
