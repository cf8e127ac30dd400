import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FILE_CHUNK_BYTES } from '@ninjait/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheEngines, relationalEngines } from '../../../test-support/databases.ts';
import type { Harness } from '../../../test-support/harness.ts';
import { startTransferFixture, type TransferFixture } from '../../../test-support/transfer-fixture.ts';
import { createTenant, httpClient, startAgent, type Tenant } from '../../../test-support/command-fixtures.ts';
import { LOCAL_ADMIN_HEADER, SESSION_COOKIE } from '../../platform/trpc/context.ts';
import { localAdminChunkSink } from '../../cli/upload-chunks.ts';
import { sha256OfFile, uploadFile, type ChunkSink } from '../../cli/transfer.ts';
import { UPLOAD_CHUNK_PATH, UPLOAD_HEADER } from './index.ts';

const combos = [{ relational: 'pglite', cache: 'memory' }] as { relational: 'pglite' | 'postgres'; cache: 'memory' | 'redis' }[];
if (relationalEngines().includes('postgres') && cacheEngines().includes('redis')) combos.push({ relational: 'postgres', cache: 'redis' });

const sha = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

describe.each(combos)('upload chunks as HTTP bodies and binary frames on $relational + $cache', ({ relational, cache }) => {
  let f: TransferFixture;
  let h: Harness;
  let x: Tenant;
  let adminToken: string;
  let dir: string;
  let device: { deviceId: string; deviceSecret: string };
  let agent: Awaited<ReturnType<typeof startAgent>>;

  const cliCall = (deviceId: string) => f.cliCall(deviceId);
  const reachable = (deviceId: string) => f.reachable(deviceId);
  const audited = async (sha256: string) => (await h.server.services.db.query<{ doc: { details: { sha256: string; requestedBy: string } } }>(
    `SELECT doc FROM audit_log WHERE action = 'file.upload' AND doc->'details'->>'sha256' = $1`, [sha256])).rows.map((r) => r.doc.details);

  beforeAll(async () => {
    f = await startTransferFixture({ relational, cache, org: 'Org Upload', device: 'x-upload-1', dirPrefix: 'ninjait-upload-' });
    ({ h, x, adminToken, dir, device, agent } = f);
  }, 180_000);
  afterAll(() => f?.stop());

  it('uploads from the CLI as chunk bodies that reach the agent as binary frames, resumes after a dropped chunk, audited with the hash', async () => {
    const source = join(dir, 'source.bin');
    await writeFile(source, randomBytes(9 * FILE_CHUNK_BYTES + 12_345));
    const expected = await sha256OfFile(source);
    const sink = localAdminChunkSink({ url: h.server.url, token: adminToken }, { device: device.deviceId });
    // The fourth chunk's connection drops before the server has it: the copy asks the device where it is and goes on.
    let sent = 0;
    const dropOnce: ChunkSink = (chunk) => (++sent === 4 ? Promise.reject(new Error('socket hang up')) : sink(chunk));
    const framesBefore = agent.framesReceived;
    try {
      const target = join(dir, 'target.bin');
      const result = await uploadFile(cliCall(device.deviceId), source, target, { chunks: dropOnce, retryDelayMs: 50 });
      expect(result.sha256).toBe(expected);
      expect(await sha256OfFile(target)).toBe(expected);
      // Every chunk went as a frame (none as base64 JSON), and the resume did not start over.
      expect(agent.framesReceived - framesBefore).toBeGreaterThanOrEqual(10);
      expect(agent.framesReceived - framesBefore).toBeLessThan(10 + 8);
      expect(await audited(expected)).toContainEqual(expect.objectContaining({ sha256: expected, requestedBy: 'local-admin' }));
    } finally {
      sink.close();
    }
  }, 120_000);

  it('sends an agent from before upload frames its chunks as JSON, through the same route', async () => {
    const older = await x.enroll('x-upload-older');
    const olderAgent = await startAgent(h.server.url, older, undefined, { binaryFrames: false });
    const sink = localAdminChunkSink({ url: h.server.url, token: adminToken }, { device: older.deviceId });
    try {
      await reachable(older.deviceId);
      const source = join(dir, 'older.bin');
      await writeFile(source, randomBytes(3 * FILE_CHUNK_BYTES + 7));
      const result = await uploadFile(cliCall(older.deviceId), source, join(dir, 'older-target.bin'), { chunks: sink });
      expect(result.sha256).toBe(await sha256OfFile(source));
      expect(olderAgent.framesReceived).toBe(0);
    } finally {
      sink.close();
      await olderAgent.stop();
    }
  }, 120_000);

  it('takes chunks from people under remote.files.uploadChunk\'s rules, and refuses hostile requests before the device sees them', async () => {
    const bytes = randomBytes(FILE_CHUNK_BYTES + 100);
    const target = join(dir, 'person.bin');
    const transferId = randomUUID();
    const begun = await x.technician.remote.files.uploadBegin.mutate({ deviceId: device.deviceId, transferId, path: target, size: bytes.length, overwrite: false });
    expect(begun.offset).toBe(0);
    const query = (offset: number, extra: Record<string, string> = {}) =>
      ({ device: device.deviceId, transferId, path: begun.path, offset: String(offset), size: String(bytes.length), ...extra });
    const post = (headers: Record<string, string>, q: Record<string, string>, body: Uint8Array, method = 'POST') =>
      fetch(`${h.server.url}${UPLOAD_CHUNK_PATH}?${new URLSearchParams(q)}`, { method, headers: { 'content-type': 'application/octet-stream', ...headers }, ...(method === 'POST' ? { body } : {}) });
    const refusal = async (headers: Record<string, string>, q: Record<string, string>, body: Uint8Array = bytes.subarray(0, 10), method?: string) => {
      const res = await post(headers, q, body, method);
      return { status: res.status, body: await res.json() as unknown };
    };
    /** What the chunk procedure answers the same caller, as the route's body shape. */
    const chunkRefusal = async (client: typeof x.technician, deviceId = device.deviceId) => {
      const error = await client.remote.files.uploadChunk.mutate({ deviceId, transferId, path: begun.path, offset: 0, data: 'AAAA' }).then(() => null, (e: unknown) => e as { data?: { code: string }; message: string });
      expect(error).not.toBeNull();
      return { error: { code: error!.data!.code, message: error!.message } };
    };
    const cookie = (token: string) => ({ cookie: `${SESSION_COOKIE}=${token}` });
    const consoleHeaders = (token: string) => ({ ...cookie(token), [UPLOAD_HEADER]: '1' });

    // Unknown callers, and the console's cookie without its header (what another site's form would send).
    expect(await refusal({}, query(0))).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHORIZED' } } });
    expect((await refusal({ [LOCAL_ADMIN_HEADER]: 'wrong' }, query(0))).status).toBe(401);
    expect(await refusal(cookie(x.technicianToken), query(0))).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
    expect((await refusal({ ...cookie(x.technicianToken), [UPLOAD_HEADER]: 'yes' }, query(0))).status).toBe(403);
    // A viewer, and another organization's technician: what the chunk procedure tells them.
    const viewerWants = await chunkRefusal(x.viewer);
    expect(viewerWants.error.code).toBe('FORBIDDEN');
    expect(await refusal(consoleHeaders(x.viewerToken), query(0))).toEqual({ status: 403, body: viewerWants });
    const other = await createTenant(h.server.url, adminToken, 'Org Upload Other');
    const notFound = await chunkRefusal(other.technician);
    expect(notFound.error.code).toBe('NOT_FOUND');
    expect(await refusal(consoleHeaders(other.technicianToken), query(0))).toEqual({ status: 404, body: notFound });
    expect(await refusal(consoleHeaders(x.technicianToken), query(0, { device: randomUUID() }))).toEqual({ status: 404, body: notFound });
    // People name the device by id; bounds: offset at or past size, an unknown field, a malformed transfer.
    expect((await refusal(consoleHeaders(x.technicianToken), query(0, { device: 'x-upload-1' }))).status).toBe(400);
    expect((await refusal(consoleHeaders(x.technicianToken), query(bytes.length))).status).toBe(400);
    expect((await refusal(consoleHeaders(x.technicianToken), query(0, { size: String(2 ** 53) }))).status).toBe(400);
    expect((await refusal(consoleHeaders(x.technicianToken), query(0, { extra: '1' }))).status).toBe(400);
    expect((await refusal(consoleHeaders(x.technicianToken), query(0, { transferId: 'x' }))).status).toBe(400);
    expect((await refusal(consoleHeaders(x.technicianToken), query(0), new Uint8Array(0))).status).toBe(400);
    // Oversize: more than a chunk, or more than is left of the file.
    expect(await refusal(consoleHeaders(x.technicianToken), query(0), randomBytes(FILE_CHUNK_BYTES + 1))).toMatchObject({ status: 413, body: { error: { code: 'PAYLOAD_TOO_LARGE' } } });
    expect((await refusal(consoleHeaders(x.technicianToken), query(FILE_CHUNK_BYTES), randomBytes(101))).status).toBe(413);
    expect((await refusal(consoleHeaders(x.technicianToken), query(0), undefined, 'PUT')).status).toBe(405);
    // API keys whose scopes do not allow the chunk procedure get its refusal.
    const key = (await x.technician.apiKeys.create.mutate({ name: 'upload devices:read', scopes: ['devices:read'], expiresInDays: 1 })).key;
    const byChunk = await chunkRefusal(httpClient(h.server.url, { authorization: `Bearer ${key}` }));
    expect(await refusal({ authorization: `Bearer ${key}` }, query(0))).toEqual({ status: 403, body: byChunk });
    // Nothing of all that reached the device's partial file.
    expect((await x.technician.remote.files.uploadBegin.mutate({ deviceId: device.deviceId, transferId, path: target, size: bytes.length, overwrite: false })).offset).toBe(0);

    // The console's cookie with its header, then a bearer token: the chunks land, and the finish is audited.
    const first = await post(consoleHeaders(x.technicianToken), query(0), bytes.subarray(0, FILE_CHUNK_BYTES));
    expect(await first.json()).toEqual({ offset: FILE_CHUNK_BYTES });
    const second = await post({ authorization: `Bearer ${x.technicianToken}` }, query(FILE_CHUNK_BYTES), bytes.subarray(FILE_CHUNK_BYTES));
    expect(await second.json()).toEqual({ offset: bytes.length });
    const done = await x.technician.remote.files.uploadFinish.mutate({ deviceId: device.deviceId, transferId, path: target, size: bytes.length, sha256: sha(bytes), overwrite: false });
    expect(done.sha256).toBe(sha(bytes));
    expect((await readFile(target)).equals(bytes)).toBe(true);
    expect(await audited(sha(bytes))).toHaveLength(1);
  }, 90_000);
});
