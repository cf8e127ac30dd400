import { execFileSync } from 'node:child_process';
import { request } from 'node:https';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startHarness, type Harness } from '../../../test-support/harness.ts';
import { createOrganization } from '../../features/organizations/organizations.ts';
import { createUser } from '../../features/auth/users.ts';

function httpsCall(url: string, ca: Buffer, body?: unknown): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  return new Promise((done, fail) => {
    const req = request(url, { ca, method: body ? 'POST' : 'GET', headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', fail);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}

describe('TLS', () => {
  let dir: string;
  let h: Harness;
  let cert: Buffer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ninjait-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    cert = await readFile(join(dir, 'cert.pem'));
    h = await startHarness({ relational: 'pglite', cache: 'memory', env: { TLS_CERT_FILE: join(dir, 'cert.pem'), TLS_KEY_FILE: join(dir, 'key.pem') } });
  });
  afterAll(async () => {
    await h?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves HTTPS with the given certificate and refuses clients that do not trust it', async () => {
    expect(h.server.url).toMatch(/^https:/);
    expect((await httpsCall(`${h.server.url}/healthz`, cert)).status).toBe(200);
    await expect(fetch(`${h.server.url}/healthz`)).rejects.toThrow();
  });

  it('sets Secure on the session cookie behind TLS', async () => {
    // The harness's admin client speaks plain HTTP, so set up through the domain functions.
    const org = await createOrganization(h.server.services.db, 'TLS');
    await createUser(h.server.services.db, { email: 'tls@a.test', password: 'correct horse battery', role: 'owner', organizationId: org.id });
    const res = await httpsCall(`${h.server.url}/trpc/auth.login`, cert, { email: 'tls@a.test', password: 'correct horse battery' });
    expect(res.status).toBe(200);
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).toMatch(/^ninjait_session=[^;]+;/);
    expect(cookie.split('; ').slice(1).sort()).toEqual(['HttpOnly', 'Max-Age=86400', 'Path=/', 'SameSite=Strict', 'Secure']);
  });

  it('serves WSS to clients that trust the certificate', async () => {
    const open = (ca?: Buffer) => new Promise<string>((done) => {
      const socket = new WebSocket(`${h.server.url.replace('https', 'wss')}/trpc`, ca ? { ca } : {});
      socket.once('open', () => { socket.close(); done('open'); });
      socket.once('error', (error) => done(error.message));
    });
    expect(await open(cert)).toBe('open');
    expect(await open()).toMatch(/self.signed|certificate/i);
  });
});
