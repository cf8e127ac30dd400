import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnServer, type SpawnedServer } from './edge-support.ts';

/**
 * /metrics and /readyz name stores, hosts, queue depths and error rates: open on loopback, and from
 * anywhere else only with `Authorization: Bearer <METRICS_TOKEN>` (403 while no token is set, 401
 * for a missing or wrong one). /healthz stays open and says nothing but "alive". A spawned server
 * listens on every interface, and is reached once through loopback and once through this
 * machine's own non-loopback address, so the server sees a remote peer. Embedded stores only: the
 * rule reads no store, and both engine pairs run the same code for it.
 */

const METRICS_TOKEN = 'operator-token-0123456789abcdef';
const remoteAddress = Object.values(networkInterfaces()).flat().find((info) => info && !info.internal && info.family === 'IPv4')?.address;
if (!remoteAddress) console.warn('no non-loopback IPv4 address on this machine: the operator endpoint test cannot play a remote peer and is skipped');

describe.skipIf(!remoteAddress)('operator endpoints', () => {
  let open: SpawnedServer;
  let guarded: SpawnedServer;
  const get = (server: SpawnedServer, host: string, path: string, headers: Record<string, string> = {}) =>
    fetch(`http://${host}:${server.port}${path}`, { headers }).then(async (res) => ({ status: res.status, text: await res.text(), auth: res.headers.get('www-authenticate') }));

  beforeAll(async () => {
    const variant = { name: 'embedded', engines: 'embedded' as const };
    [open, guarded] = await Promise.all([spawnServer(variant, { HOST: '0.0.0.0' }), spawnServer(variant, { HOST: '0.0.0.0', METRICS_TOKEN })]);
  }, 180_000);
  afterAll(async () => {
    await Promise.all([open?.stop(), guarded?.stop()]);
  });

  it('serves /metrics and /readyz on loopback, and to nobody else while no token is set', async () => {
    expect((await get(open, '127.0.0.1', '/metrics')).status).toBe(200);
    expect((await get(open, '127.0.0.1', '/readyz')).status).toBe(200);
    for (const path of ['/metrics', '/readyz']) {
      const remote = await get(open, remoteAddress!, path);
      expect([remote.status, remote.text]).toEqual([403, expect.stringMatching(/METRICS_TOKEN/)]);
      expect(remote.text).not.toMatch(/ninjait_|relational|stores/);
      // A proxy on this machine relays other people: its forwarding headers make a loopback peer remote.
      expect((await get(open, '127.0.0.1', path, { 'x-forwarded-for': '198.51.100.20' })).status).toBe(403);
      expect((await get(open, '127.0.0.1', path, { forwarded: 'for=198.51.100.20' })).status).toBe(403);
    }
  });

  it('serves them from elsewhere with the token, and answers 401 for a missing or wrong one', async () => {
    for (const path of ['/metrics', '/readyz']) {
      const missing = await get(guarded, remoteAddress!, path);
      expect([missing.status, missing.auth]).toEqual([401, expect.stringMatching(/^Bearer/)]);
      expect((await get(guarded, remoteAddress!, path, { authorization: `Bearer ${METRICS_TOKEN}x` })).status).toBe(401);
      expect((await get(guarded, remoteAddress!, path, { authorization: `Basic ${METRICS_TOKEN}` })).status).toBe(401);
      expect((await get(guarded, remoteAddress!, path, { authorization: `Bearer ${METRICS_TOKEN}` })).status).toBe(200);
      expect((await get(guarded, '127.0.0.1', path)).status).toBe(200);
    }
    expect((await get(guarded, remoteAddress!, '/metrics', { authorization: `Bearer ${METRICS_TOKEN}` })).text).toMatch(/^# HELP /m);
  });

  it('keeps /healthz open to everyone, saying only that the process is alive', async () => {
    for (const host of ['127.0.0.1', remoteAddress!]) {
      const health = await get(open, host, '/healthz');
      expect([health.status, JSON.parse(health.text)]).toEqual([200, { ok: true }]);
    }
  });
});
