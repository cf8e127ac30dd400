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

/** What a plain HTTP exchange sends: node:http rather than fetch, for the source address and agent. */
export interface HttpExchange {
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string | undefined;
  /** Source address, so load can come from many 127.0.0.x addresses. */
  localAddress?: string | undefined;
  agent?: Agent | undefined;
}

/** One request and its whole answer: the status and the body as text. */
export function httpExchange(url: URL, exchange: HttpExchange): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: exchange.method,
      headers: exchange.headers,
      ...(exchange.localAddress ? { localAddress: exchange.localAddress } : {}),
      ...(exchange.agent ? { agent: exchange.agent } : {}),
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(exchange.body);
  });
}

/**
 * One tRPC call over HTTP without a client library: POST for mutations, GET with
 * `?input=` for queries; no transformer is configured on the server, so JSON is the wire.
 */
export async function trpcHttp<T>(baseUrl: string, path: string, type: 'query' | 'mutation', input: unknown, options: HttpCallOptions = {}): Promise<T> {
  const body = input === undefined ? '' : JSON.stringify(input);
  const url = new URL(`${baseUrl}/trpc/${path}`);
  if (type === 'query' && input !== undefined) url.searchParams.set('input', body);
  const { status, text } = await httpExchange(url, {
    method: type === 'query' ? 'GET' : 'POST',
    headers: { ...(type === 'mutation' ? { 'content-type': 'application/json' } : {}), ...options.headers },
    body: type === 'mutation' ? body : undefined,
    localAddress: options.localAddress, agent: options.agent,
  });
  const json = JSON.parse(text) as {
    result?: { data: T };
    error?: { message: string; data?: { code?: string; httpStatus?: number } };
  };
  if (json.error) throw new TrpcCallError(json.error.data?.code ?? 'UNKNOWN', json.error.message, status);
  return json.result!.data;
}
