import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedPost {
  headers: IncomingHttpHeaders;
  /** The raw body, as signed. */
  body: string;
  /** The body as JSON, or null when it is not. */
  json: unknown;
  atMs: number;
}

export interface WebhookReceiver {
  /** `http://127.0.0.1:PORT/hook`: what a channel or subscription is given. */
  url: string;
  received: ReceivedPost[];
  close(): Promise<void>;
}

/** A real HTTP endpoint on loopback that answers 204 to every POST and keeps what came, in order. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedPost[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown = null;
      try {
        json = JSON.parse(body);
      } catch {
        // kept as text
      }
      received.push({ headers: req.headers, body, json, atMs: Date.now() });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
