import { request, Agent } from 'node:http';

/** A tRPC error as the server shaped it (see server/src/platform/trpc/trpc.ts errorFormatter). */
export class TrpcCallError extends Error {
  constructor(readonly code: string, message: string, readonly httpStatus: number) {
    super(message);
  }
}

export interface HttpCallOptions {
  headers?: Record<string, string>;
  /** Source address, so load can come from many 127.0.0.x addresses. */
  localAddress?: string;
  agent?: Agent;
}

/**
 * One tRPC call over HTTP without a client library: POST for mutations, GET with
 * `?input=` for queries; no transformer is configured on the server, so JSON is the wire.
 */
export function trpcHttp<T>(baseUrl: string, path: string, type: 'query' | 'mutation', input: unknown, options: HttpCallOptions = {}): Promise<T> {
  const body = input === undefined ? '' : JSON.stringify(input);
  const url = new URL(`${baseUrl}/trpc/${path}`);
  if (type === 'query' && input !== undefined) url.searchParams.set('input', body);
  return new Promise<T>((resolve, reject) => {
    const req = request(url, {
      method: type === 'query' ? 'GET' : 'POST',
      headers: { ...(type === 'mutation' ? { 'content-type': 'application/json' } : {}), ...options.headers },
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
      ...(options.agent ? { agent: options.agent } : {}),
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        try {
          const json = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
            result?: { data: T };
            error?: { message: string; data?: { code?: string; httpStatus?: number } };
          };
          if (json.error) reject(new TrpcCallError(json.error.data?.code ?? 'UNKNOWN', json.error.message, res.statusCode ?? 0));
          else resolve(json.result!.data);
        } catch (error) {
          reject(error);
        }
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (type === 'mutation') req.end(body);
    else req.end();
  });
}
