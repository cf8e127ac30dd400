import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { allocChunkFrame } from '@ninjait/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { cacheEngines, relationalEngines } from '../../../test-support/databases.ts';
import type { Harness } from '../../../test-support/harness.ts';
import { startTransferFixture, type TransferFixture } from '../../../test-support/transfer-fixture.ts';
import { createTenant, httpClient, startAgent, type Tenant } from '../../../test-support/command-fixtures.ts';
import { LOCAL_ADMIN_HEADER, SESSION_COOKIE } from '../../platform/trpc/context.ts';
import { localAdminByteSource } from '../../cli/download-stream.ts';
import { downloadFile, sha256OfFile, type ByteSource } from '../../cli/transfer.ts';
import { DOWNLOAD_STREAM_PATH } from './index.ts';
import { DOWNLOAD_HEADER } from './download-route.ts';

const combos = [{ relational: 'pglite', cache: 'memory' }] as { relational: 'pglite' | 'postgres'; cache: 'memory' | 'redis' }[];
if (relationalEngines().includes('postgres') && cacheEngines().includes('redis')) combos.push({ relational: 'postgres', cache: 'redis' });

/** A tRPC socket spoken by hand (binary frames are sent on it as they are): its connection params, then calls by id. */
async function rawSocket(url: string, params: Record<string, string>) {
  // `connectionParams=1`: the first message is the params, as tRPC's client sends them.
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/trpc?connectionParams=1`);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  ws.send(JSON.stringify({ method: 'connectionParams', data: params }));
  let nextId = 1;
  return {
    ws,
    call(path: string, input?: unknown): Promise<unknown> {
      const id = nextId++;
      return new Promise((resolve) => {
        const onMessage = (data: Buffer) => {
          const message = JSON.parse(data.toString()) as { id?: unknown };
          if (message.id !== id) return;
          ws.off('message', onMessage);
          resolve(message);
        };
        ws.on('message', onMessage);
        ws.send(JSON.stringify({ id, method: path.startsWith('auth.me') ? 'query' : 'mutation', params: { path, input } }));
      });
    },
  };
}

/** How a socket was closed: its close code, once it is. */
function closeCode(ws: WebSocket): Promise<number> {
  return new Promise((resolve) => ws.once('close', (code) => resolve(code)));
}

describe.each(combos)('streamed downloads and binary chunk frames on $relational + $cache', ({ relational, cache }) => {
  let f: TransferFixture;
  let h: Harness;
  let x: Tenant;
  let adminToken: string;
  let dir: string;
  let device: { deviceId: string; deviceSecret: string };

  const cliStream = (deviceId: string) => localAdminByteSource({ url: h.server.url, token: adminToken }, { device: deviceId });
  const cliCall = (deviceId: string) => f.cliCall(deviceId);
  const reachable = (deviceId: string) => f.reachable(deviceId);

  beforeAll(async () => {
    f = await startTransferFixture({ relational, cache, org: 'Org Stream', device: 'x-stream-1', dirPrefix: 'ninjait-stream-' });
    ({ h, x, adminToken, dir, device } = f);
  }, 180_000);
  afterAll(() => f?.stop());

  it('streams a download to the CLI from binary frames, resumes a body cut off mid-way, audited with the hash', async () => {
    const source = join(dir, 'source.bin');
    await writeFile(source, randomBytes(9 * 1024 * 1024 + 12_345));
    const expected = await sha256OfFile(source);
    const stream = cliStream(device.deviceId);
    const starts: number[] = [];
    // The first body breaks after 3 MiB, as a dropped connection does: the copy asks again from what it wrote.
    const cutOnce: ByteSource = async (path, from, size) => {
      starts.push(from);
      const body = await stream(path, from, size);
      if (starts.length > 1) return body;
      return (async function* () {
        let seen = 0;
        for await (const piece of body) {
          yield piece;
          if ((seen += piece.length) >= 3 * 1024 * 1024) throw new Error('connection reset');
        }
      })();
    };
    const back = join(dir, 'back.bin');
    const result = await downloadFile(cliCall(device.deviceId), source, back, { stream: cutOnce, retryDelayMs: 50 });
    expect(result.sha256).toBe(expected);
    expect(await sha256OfFile(back)).toBe(expected);
    expect(starts).toHaveLength(2);
    expect(starts[1]).toBeGreaterThanOrEqual(3 * 1024 * 1024);
    const { rows } = await h.server.services.db.query<{ doc: { details: { sha256: string; requestedBy: string } } }>(
      `SELECT doc FROM audit_log WHERE action = 'file.download' AND resource_id = $1`, [device.deviceId]);
    expect(rows.map((r) => r.doc.details)).toContainEqual(expect.objectContaining({ sha256: expected, requestedBy: 'local-admin' }));
    await Promise.all([rm(source), rm(back)]);
  }, 120_000);

  it('refuses the stream without the local admin credential, with a bad range, or for an unknown device', async () => {
    const url = (q: Record<string, string>) => `${h.server.url}${DOWNLOAD_STREAM_PATH}?${new URLSearchParams(q)}`;
    const good = { device: device.deviceId, path: join(dir, 'x'), offset: '0', size: '1' };
    const status = async (q: Record<string, string>, headers: Record<string, string> = { [LOCAL_ADMIN_HEADER]: adminToken }) => (await fetch(url(q), { headers })).status;
    expect(await status(good, {})).toBe(401);
    expect(await status(good, { [LOCAL_ADMIN_HEADER]: 'wrong' })).toBe(401);
    expect(await status(good, { authorization: 'Bearer not-a-session' })).toBe(401);
    expect(await status({ ...good, offset: '2' })).toBe(400);
    expect(await status({ ...good, size: String(2 ** 53) })).toBe(400);
    expect(await status({ ...good, extra: '1' })).toBe(400);
    expect(await status({ ...good, device: randomUUID() })).toBe(404);
    expect((await fetch(url(good), { method: 'POST', headers: { [LOCAL_ADMIN_HEADER]: adminToken } })).status).toBe(405);
  }, 30_000);

  it('streams to people under remote.files.downloadChunk\'s rules: cookie with the console\'s header, bearer, API key scopes', async () => {
    const bytes = randomBytes(5 * 1024 * 1024 + 321);
    const source = join(dir, 'person.bin');
    await writeFile(source, bytes);
    const sha = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
    const auditedDownloads = async () => (await h.server.services.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM audit_log WHERE action = 'file.download' AND resource_id = $1 AND doc->'details'->>'sha256' = $2`, [device.deviceId, sha(bytes)])).rows[0]!.n;
    const begun = await x.technician.remote.files.downloadBegin.mutate({ deviceId: device.deviceId, path: source });
    expect(begun.sha256).toBe(sha(bytes));
    expect(await auditedDownloads()).toBe(1);

    const whole = { device: device.deviceId, path: begun.path, offset: '0', size: String(begun.size) };
    const get = (headers: Record<string, string>, query: Record<string, string> = whole) =>
      fetch(`${h.server.url}${DOWNLOAD_STREAM_PATH}?${new URLSearchParams(query)}`, { headers });
    const body = async (headers: Record<string, string>, query?: Record<string, string>) => {
      const res = await get(headers, query);
      expect(res.status, await res.clone().text().then((t) => t.slice(0, 200))).toBe(200);
      return new Uint8Array(await res.arrayBuffer());
    };
    const refusal = async (headers: Record<string, string>, query?: Record<string, string>) => {
      const res = await get(headers, query);
      return { status: res.status, body: await res.json() as unknown };
    };
    /** What the chunk procedure answers the same caller, as the route's body shape. */
    const chunkRefusal = async (client: typeof x.technician, deviceId = device.deviceId) => {
      const error = await client.remote.files.downloadChunk.mutate({ deviceId, path: begun.path, offset: 0, length: 1 }).then(() => null, (e: unknown) => e as { data?: { code: string }; message: string });
      expect(error).not.toBeNull();
      return { error: { code: error!.data!.code, message: error!.message } };
    };
    const cookie = (token: string) => ({ cookie: `${SESSION_COOKIE}=${token}` });
    const consoleHeaders = (token: string) => ({ ...cookie(token), [DOWNLOAD_HEADER]: '1' });

    // The console: its cookie and header; from an offset, the rest.
    expect(sha(await body(consoleHeaders(x.technicianToken)))).toBe(begun.sha256);
    const from = 3 * 1024 * 1024 + 5;
    expect(Buffer.from(await body(consoleHeaders(x.technicianToken), { ...whole, offset: String(from) })).equals(bytes.subarray(from))).toBe(true);
    // A program's bearer token needs no header: no browser attaches it by itself.
    expect(sha(await body({ authorization: `Bearer ${x.technicianToken}` }))).toBe(begun.sha256);

    // The cookie alone, or with another value in the header, is refused before anything reaches the device.
    expect(await refusal(cookie(x.technicianToken))).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
    expect((await refusal({ ...cookie(x.technicianToken), [DOWNLOAD_HEADER]: 'yes' })).status).toBe(403);
    expect(await refusal({ [DOWNLOAD_HEADER]: '1' })).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHORIZED' } } });
    expect((await refusal(consoleHeaders('not_a_session'))).status).toBe(401);

    // A viewer gets what the chunk procedure tells a viewer.
    const viewerWants = await chunkRefusal(x.viewer);
    expect(viewerWants.error.code).toBe('FORBIDDEN');
    expect(await refusal(consoleHeaders(x.viewerToken))).toEqual({ status: 403, body: viewerWants });

    // Another organization's technician: not found, the very words a chunk call gets, and the
    // same as for a device that does not exist (no telling the two apart).
    const other = await createTenant(h.server.url, adminToken, 'Org Stream Other');
    const notFound = await chunkRefusal(other.technician);
    expect(notFound.error.code).toBe('NOT_FOUND');
    expect(await refusal(consoleHeaders(other.technicianToken))).toEqual({ status: 404, body: notFound });
    expect(await refusal(consoleHeaders(other.technicianToken), { ...whole, device: randomUUID() })).toEqual({ status: 404, body: notFound });
    // People name the device by id, in their organization: names and `org` are the local CLI's.
    expect((await refusal(consoleHeaders(x.technicianToken), { ...whole, device: 'x-stream-1' })).status).toBe(400);
    expect((await refusal(consoleHeaders(x.technicianToken), { ...whole, org: x.orgId })).status).toBe(400);

    // API keys: one whose scopes allow remote.files.downloadChunk streams; others get the chunk procedure's refusal.
    const keyOf = async (scopes: ('admin' | 'commands:run' | 'devices:read')[]) => (await x.technician.apiKeys.create.mutate({ name: `stream ${scopes.join(' ')}`, scopes, expiresInDays: 1 })).key;
    const allowed = await keyOf(['admin']);
    expect(sha(await body({ authorization: `Bearer ${allowed}` }))).toBe(begun.sha256);
    for (const scopes of [['commands:run'], ['devices:read']] as const) {
      const key = await keyOf([...scopes]);
      const byChunk = await chunkRefusal(httpClient(h.server.url, { authorization: `Bearer ${key}` }));
      expect(byChunk.error.code).toBe('FORBIDDEN');
      expect(await refusal({ authorization: `Bearer ${key}` })).toEqual({ status: 403, body: byChunk });
    }

    // The streams read what downloadBegin handed out and audited; they are not new actions.
    expect(await auditedDownloads()).toBe(1);
    await rm(source);
  }, 60_000);

  it('serves an agent from before binary frames (it answers chunks in JSON), on both the stream and the chunk calls', async () => {
    const older = await x.enroll('x-stream-older');
    const olderAgent = await startAgent(h.server.url, older, undefined, { binaryFrames: false });
    try {
      await reachable(older.deviceId);
      const source = join(dir, 'older.bin');
      await writeFile(source, randomBytes(3 * 1024 * 1024 + 7));
      const expected = await sha256OfFile(source);
      const viaStream = await downloadFile(cliCall(older.deviceId), source, join(dir, 'older-stream.bin'), { stream: cliStream(older.deviceId) });
      const viaChunks = await downloadFile(cliCall(older.deviceId), source, join(dir, 'older-chunks.bin'));
      expect([viaStream.sha256, viaChunks.sha256]).toEqual([expected, expected]);
      expect(await sha256OfFile(join(dir, 'older-stream.bin'))).toBe(expected);
      await Promise.all(['older.bin', 'older-stream.bin', 'older-chunks.bin'].map((f) => rm(join(dir, f))));
    } finally {
      await olderAgent.stop();
    }
  }, 120_000);

  it('closes sockets that send hostile binary frames, drops forged chunk answers, and goes on serving', async () => {
    // A person's socket: binary frames are for agents.
    const person = await rawSocket(h.server.url, { sessionToken: x.technicianToken });
    const me = await person.call('auth.me');
    expect(me, JSON.stringify(me)).toHaveProperty('result');
    const personClosed = closeCode(person.ws);
    person.ws.send(allocChunkFrame(randomUUID(), 0, 0));
    expect(await personClosed).toBe(1003);

    // A device's socket (authenticated: its call is answered) sending a forged answer, then garbage.
    const rogue = await x.enroll('x-stream-rogue');
    const socket = await rawSocket(h.server.url, { deviceId: rogue.deviceId, deviceSecret: rogue.deviceSecret });
    const unanswered = { requestId: randomUUID(), ok: false, error: {} };
    expect(await socket.call('agent.remoteResult', unanswered)).toMatchObject({ result: { data: { accepted: false } } });
    // A well-formed frame answering nothing is dropped, not fatal: the socket still serves calls.
    socket.ws.send(allocChunkFrame(randomUUID(), 0, 16));
    expect(await socket.call('agent.remoteResult', unanswered)).toMatchObject({ result: { data: { accepted: false } } });
    const deviceClosed = closeCode(socket.ws);
    socket.ws.send(Buffer.alloc(64, 0xff));
    expect(await deviceClosed).toBe(1003);

    // The real device still downloads.
    const source = join(dir, 'after.bin');
    await writeFile(source, randomBytes(2 * 1024 * 1024));
    const done = await downloadFile(cliCall(device.deviceId), source, join(dir, 'after-back.bin'), { stream: cliStream(device.deviceId) });
    expect(done.sha256).toBe(await sha256OfFile(source));
    await Promise.all([rm(source), rm(join(dir, 'after-back.bin'))]);
  }, 60_000);
});
