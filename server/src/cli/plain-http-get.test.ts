import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plainHttpGet } from './plain-http-get.ts';

const MiB = 1024 * 1024;
const body = randomBytes(9 * MiB + 12_345);
const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

describe('plainHttpGet', () => {
  let server: Server;
  let base: string;
  const requests: { url: string | undefined; headers: Record<string, unknown> }[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push({ url: req.url, headers: req.headers });
      if (req.url === '/refuse') {
        // As the server's sendJson answers: no content-length, so chunked.
        res.writeHead(404, { 'content-type': 'application/json; charset=utf-8' });
        return void res.end(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'No device "x" — none' } }));
      }
      res.writeHead(200, { 'content-length': String(body.length), 'content-type': 'application/octet-stream' });
      if (req.url === '/cut') {
        res.write(body.subarray(0, 3 * MiB));
        return void setTimeout(() => res.destroy(), 50);
      }
      let at = 0;
      const pump = () => {
        while (at < body.length) {
          const piece = body.subarray(at, (at += 256 * 1024));
          if (!res.write(piece)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('reads the body in pieces of up to 1 MiB that a slow reader paces, sending the headers asked for', async () => {
    const res = await plainHttpGet(new URL(`${base}/file?path=%2Fa%20b`), { 'x-token': 'secret' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    const hash = createHash('sha256');
    const seen = new Set<ArrayBufferLike>();
    let pieces = 0;
    for await (const piece of res.body) {
      expect(piece.length).toBeLessThanOrEqual(MiB);
      hash.update(piece);
      seen.add(piece.buffer);
      // A slow reader: the socket is paused meanwhile, and the bytes must still all arrive in order.
      if (++pieces % 3 === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(hash.digest('hex')).toBe(sha256(body));
    expect(pieces).toBe(10);
    // Ten pieces in at most three buffers: memory is reused, not allocated per piece.
    expect(seen.size).toBeLessThanOrEqual(3);
    expect(requests.at(-1)).toMatchObject({ url: '/file?path=%2Fa%20b', headers: { 'x-token': 'secret', connection: 'close' } });
  });

  it('fails the iteration when the body is cut short, after handing out what arrived', async () => {
    const res = await plainHttpGet(new URL(`${base}/cut`), {});
    let got = 0;
    await expect((async () => {
      for await (const piece of res.body) got += piece.length;
    })()).rejects.toThrow(/bytes of the body still to come/);
    expect(got).toBe(3 * MiB);
  });

  it('reads a refusal as text, chunked or not, and refuses what is not http:', async () => {
    const res = await plainHttpGet(new URL(`${base}/refuse`), {});
    expect(res.status).toBe(404);
    expect(JSON.parse(await res.text())).toEqual({ error: { code: 'NOT_FOUND', message: 'No device "x" — none' } });
    await expect(plainHttpGet(new URL('http://127.0.0.1:1/'), {})).rejects.toThrow(/ECONNREFUSED/);
    expect(() => plainHttpGet(new URL('https://127.0.0.1/'), {})).toThrow(/http: only/);
  });
});
