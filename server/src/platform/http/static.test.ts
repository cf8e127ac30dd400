import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStaticRoutes } from './static.ts';

describe('console static files', () => {
  let dir: string;
  let server: Server;
  let base: string;
  const bigScript = `console.log(${JSON.stringify('x'.repeat(5_000))});`;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ninjait-static-'));
    await mkdir(join(dir, 'dist', 'assets'), { recursive: true });
    await writeFile(join(dir, 'dist', 'index.html'), '<!doctype html><title>console</title>');
    await writeFile(join(dir, 'dist', 'assets', 'index-abc123.js'), bigScript);
    await writeFile(join(dir, 'dist', 'favicon.svg'), '<svg/>');
    await writeFile(join(dir, 'secret.txt'), 'outside the build folder');
    const routes = createStaticRoutes({ rootDir: join(dir, 'dist') });
    server = createServer((req, res) => {
      if (!routes(req, res)) {
        res.writeHead(404);
        res.end('not ours');
      }
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((done) => server.close(done));
    await rm(dir, { recursive: true, force: true });
  });

  it('answers page paths with index.html, revalidated every time', async () => {
    for (const path of ['/', '/devices', '/devices/6f1c2d1e-0000-4000-8000-000000000000?tab=commands']) {
      const response = await fetch(`${base}${path}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.headers.get('cache-control')).toBe('no-cache');
      expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
      expect(await response.text()).toContain('<title>console</title>');
    }
  });

  it('serves hashed assets for a year, compressed, with their type, and 304 on a matching ETag', async () => {
    const response = await fetch(`${base}/assets/index-abc123.js`, { headers: { 'accept-encoding': 'gzip' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(await response.text()).toBe(bigScript); // fetch decodes the gzip body
    const raw = await new Promise<{ encoding: string | undefined; body: Buffer }>((done) => {
      void import('node:http').then(({ get }) => get(`${base}/assets/index-abc123.js`, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => done({ encoding: res.headers['content-encoding'], body: Buffer.concat(chunks) }));
      }));
    });
    expect(raw.encoding).toBe('gzip');
    expect(gunzipSync(raw.body).toString()).toBe(bigScript);
    // Through node:http: fetch adds `cache-control: no-cache` to a conditional request, which
    // asks for the full body again; a browser revalidating a file sends the ETag alone.
    const etag = response.headers.get('etag')!;
    const again = await new Promise<number | undefined>((done) => {
      void import('node:http').then(({ get }) => get(`${base}/assets/index-abc123.js`, { headers: { 'if-none-match': etag } }, (res) => {
        res.resume();
        done(res.statusCode);
      }));
    });
    expect(again).toBe(304);
    expect((await fetch(`${base}/favicon.svg`)).headers.get('content-type')).toBe('image/svg+xml');
  });

  it('leaves missing files, other methods and paths outside the build folder to the caller', async () => {
    expect((await fetch(`${base}/assets/missing.js`)).status).toBe(404);
    expect((await fetch(`${base}/robots.txt`)).status).toBe(404);
    expect((await fetch(`${base}/`, { method: 'POST' })).status).toBe(404);
    expect(await (await fetch(`${base}/..%2fsecret.txt`)).text()).toBe('not ours');
    expect(await (await fetch(`${base}/%2e%2e/secret.txt`)).text()).not.toContain('outside the build folder');
  });

  it('says how to build the console when it is not built', async () => {
    const routes = createStaticRoutes({ rootDir: join(dir, 'nothing-here') });
    const empty = createServer((req, res) => void routes(req, res));
    await new Promise<void>((done) => empty.listen(0, '127.0.0.1', done));
    const response = await fetch(`http://127.0.0.1:${(empty.address() as AddressInfo).port}/`);
    expect(response.status).toBe(503);
    expect(await response.text()).toContain('npm run build');
    await new Promise((done) => empty.close(done));
  });
});
