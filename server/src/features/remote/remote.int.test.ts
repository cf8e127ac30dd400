import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile, stat } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RemoteOp, RemoteOpKind, RemoteResult } from '@ninjait/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheEngines, relationalEngines } from '../../../test-support/databases.ts';
import { startHarness, type Harness } from '../../../test-support/harness.ts';
import { readLocalAdminToken } from '../auth/local-admin.ts';
import { codeOf, createTenant, processGone, startAgent, until, wsClient, type Client, type Tenant } from '../../../test-support/command-fixtures.ts';
import { measureEchoRoundTrip } from '../../../test-support/echo-round-trip.ts';
import { downloadFile, sha256OfFile, uploadFile, type RemoteCall } from '../../cli/transfer.ts';
import { downloadFolder, uploadFolder } from '../../cli/folder-transfer.ts';

/**
 * The round trip's size. 16 MB keeps the chunk window, ordering and hashing honest in CI (on both
 * engines); the 100 MB figure is a measurement, taken with REMOTE_TEST_MB=100 (it took
 * ~6 minutes of CI for two engines, which proved nothing 16 MB does not).
 */
const FILE_MB = Number(process.env.REMOTE_TEST_MB ?? 16);
/** A technician's WebSocket whose connection can be dropped on purpose; calls go to the live one. */
function droppableSocket(url: string, token: string) {
  let current = wsClient(url, { sessionToken: token });
  return {
    get client() { return current.client; },
    /** Closes the socket under the calls in flight (they fail as a dropped connection does) and opens another. */
    drop() {
      const old = current;
      current = wsClient(url, { sessionToken: token });
      void old.close();
    },
    close: () => current.close(),
  };
}
const mbPerSecond = (bytes: number, ms: number) => Number(((bytes / 1048576) / (ms / 1000)).toFixed(1));

const combos = [{ relational: 'pglite', cache: 'memory' }] as { relational: 'pglite' | 'postgres'; cache: 'memory' | 'redis' }[];
if (relationalEngines().includes('postgres') && cacheEngines().includes('redis')) combos.push({ relational: 'postgres', cache: 'redis' });

/** The console's and the CLI's transfer calls, through a person's procedures. */
const personCall = (client: Client, deviceId: string) => personCallVia(() => client, deviceId);
/** The same, through whichever client `current` returns at the time of each call. */
function personCallVia(current: () => Client, deviceId: string): RemoteCall {
  const f = () => current().remote.files;
  const by: { [K in RemoteOpKind]?: (input: never) => Promise<unknown> } = {
    'fs.uploadBegin': (i) => f().uploadBegin.mutate(i), 'fs.uploadChunk': (i) => f().uploadChunk.mutate(i), 'fs.uploadFinish': (i) => f().uploadFinish.mutate(i),
    'fs.uploadAbort': (i) => f().uploadAbort.mutate(i), 'fs.downloadBegin': (i) => f().downloadBegin.mutate(i), 'fs.downloadChunk': (i) => f().downloadChunk.mutate(i),
    'fs.list': (i) => f().list.query(i), 'fs.mkdir': (i) => f().mkdir.mutate(i),
  };
  return (async <K extends RemoteOpKind>(op: Extract<RemoteOp, { kind: K }>) => {
    const { kind, ...rest } = op;
    return by[kind]!({ ...rest, deviceId } as never) as Promise<RemoteResult<K>>;
  }) as RemoteCall;
}

async function randomFile(path: string, bytes: number) {
  const out = createWriteStream(path);
  for (let written = 0; written < bytes; written += 1024 * 1024) {
    if (!out.write(randomBytes(Math.min(1024 * 1024, bytes - written)))) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
}

describe.each(combos)('remote access on $relational + $cache', ({ relational, cache }) => {
  let h: Harness;
  let x: Tenant;
  let y: Tenant;
  let device: { deviceId: string; deviceSecret: string };
  let agent: Awaited<ReturnType<typeof startAgent>>;
  let techWs: ReturnType<typeof wsClient>;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ninjait-remote-'));
    // The production poll interval: the harness's 20 ms one spends the CPU the transfers are measured on.
    h = await startHarness({ relational, cache, env: { RATE_LIMIT_MAX: '100000', DRAIN_POLL_MS: '250' } });
    const adminToken = (await readLocalAdminToken(h.dataDir))!;
    x = await createTenant(h.server.url, adminToken, 'Org X');
    y = await createTenant(h.server.url, adminToken, 'Org Y');
    device = await x.enroll('x-remote-1');
    agent = await startAgent(h.server.url, device);
    techWs = wsClient(h.server.url, { sessionToken: x.technicianToken });
    await until(async () => (await measureEchoRoundTrip(techWs.client, device.deviceId, { timeoutMs: 5_000 }).catch(() => null)) !== null, 20_000, 200);
  }, 180_000);

  afterAll(async () => {
    await Promise.allSettled([agent?.stop(), techWs?.close()]);
    await h?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it(`uploads a ${FILE_MB} MB random file and downloads it back on the technician's WebSocket with equal SHA-256, audited with the hash`, async () => {
    const source = join(dir, 'source.bin');
    await randomFile(source, FILE_MB * 1024 * 1024);
    const expected = await sha256OfFile(source);
    const remote = join(dir, 'on-device', 'uploaded.bin');
    await mkdir(join(dir, 'on-device'));
    let progressCalls = 0;
    const call = personCall(techWs.client, device.deviceId);
    let started = performance.now();
    const up = await uploadFile(call, source, remote, { onProgress: () => void progressCalls++ });
    const upMs = performance.now() - started;
    expect(up).toMatchObject({ path: remote, size: FILE_MB * 1024 * 1024, sha256: expected });
    expect(progressCalls).toBeGreaterThan(FILE_MB);
    expect(await sha256OfFile(remote)).toBe(expected);
    // No partial file is left beside it.
    expect(await readdir(join(dir, 'on-device'))).toEqual(['uploaded.bin']);
    const back = join(dir, 'back.bin');
    started = performance.now();
    const down = await downloadFile(call, remote, back);
    const downMs = performance.now() - started;
    expect(down.sha256).toBe(expected);
    expect(await sha256OfFile(back)).toBe(expected);
    // The figures the issue asks to record (they include hashing both ends).
    console.log(`${relational} + ${cache}: ${FILE_MB} MB up in ${(upMs / 1000).toFixed(1)} s (${mbPerSecond(up.size, upMs)} MB/s), down in ${(downMs / 1000).toFixed(1)} s (${mbPerSecond(down.size, downMs)} MB/s)`);
    const { rows } = await h.server.services.db.query<{ doc: { details: { sha256: string; size: number; path: string } } }>(
      `SELECT doc FROM audit_log WHERE organization_id = $1 AND action IN ('file.upload', 'file.download') ORDER BY action DESC`, [x.orgId]);
    expect(rows.map((r) => r.doc.details)).toEqual([
      expect.objectContaining({ sha256: expected, size: FILE_MB * 1024 * 1024, path: remote }),
      expect.objectContaining({ sha256: expected, size: FILE_MB * 1024 * 1024, path: remote }),
    ]);
    await rm(source);
    await rm(back);
    await rm(remote);
  }, 600_000);

  it('resumes an upload and a download cut off mid-way by a dropped connection, with equal SHA-256', async () => {
    const socket = droppableSocket(h.server.url, x.technicianToken);
    try {
      const call = personCallVia(() => socket.client, device.deviceId);
      const source = join(dir, 'cut.bin');
      const size = 24 * 1024 * 1024;
      await randomFile(source, size);
      const expected = await sha256OfFile(source);
      const target = join(dir, 'cut-on-device.bin');
      // Dropped once a third is acknowledged: the chunks in flight fail, the transfer asks where to go on.
      let dropped = false;
      let resumedFrom = -1;
      const dropAt = (done: number) => {
        if (!dropped && done >= size / 3) {
          dropped = true;
          socket.drop();
        } else if (dropped && resumedFrom < 0) resumedFrom = done;
      };
      const up = await uploadFile(call, source, target, { onProgress: dropAt, retryDelayMs: 100 });
      expect(dropped).toBe(true);
      expect(resumedFrom).toBeGreaterThanOrEqual(size / 3);
      expect(up.sha256).toBe(expected);
      expect(await sha256OfFile(target)).toBe(expected);
      dropped = false;
      resumedFrom = -1;
      const back = join(dir, 'cut-back.bin');
      const down = await downloadFile(call, target, back, { onProgress: dropAt, retryDelayMs: 100 });
      expect(dropped).toBe(true);
      expect(resumedFrom).toBeGreaterThanOrEqual(size / 3);
      expect(down.sha256).toBe(expected);
      expect(await sha256OfFile(back)).toBe(expected);
      expect((await readdir(dir)).filter((n) => n.endsWith('.part') || n.endsWith('.ninjait-part'))).toEqual([]);
      await Promise.all([rm(source), rm(target), rm(back)]);
    } finally {
      await socket.close();
    }
  }, 300_000);

  it('resumes an interrupted upload at the device\'s offset, and removes the partial file on a hash mismatch or an abort', async () => {
    const call = personCall(x.technician, device.deviceId);
    const source = join(dir, 'resume.bin');
    await randomFile(source, 1024 * 1024);
    const content = (await import('node:fs/promises')).readFile;
    const bytes = await content(source);
    const target = join(dir, 'resumed.bin');
    const transferId = crypto.randomUUID();
    // Two chunks, then the "connection drops": a new begin with the same transfer learns where to go on.
    await call({ kind: 'fs.uploadBegin', transferId, path: target, size: bytes.length, overwrite: false });
    await call({ kind: 'fs.uploadChunk', transferId, path: target, offset: 0, data: bytes.subarray(0, 256 * 1024).toString('base64') });
    await call({ kind: 'fs.uploadChunk', transferId, path: target, offset: 256 * 1024, data: bytes.subarray(256 * 1024, 512 * 1024).toString('base64') });
    expect((await call({ kind: 'fs.uploadBegin', transferId, path: target, size: bytes.length, overwrite: false })).offset).toBe(512 * 1024);
    // Far past the device's end (more than a window ahead): refused at once with where to continue.
    expect(await codeOf(call({ kind: 'fs.uploadChunk', transferId, path: target, offset: 64 * 1024 * 1024, data: 'AAAA' }))).toBe('CONFLICT');
    const done = await uploadFile(call, source, target, { transferId });
    expect(done.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));

    // A wrong hash: refused, and nothing is left behind.
    const bad = crypto.randomUUID();
    const badTarget = join(dir, 'bad.bin');
    await call({ kind: 'fs.uploadBegin', transferId: bad, path: badTarget, size: 4, overwrite: false });
    await call({ kind: 'fs.uploadChunk', transferId: bad, path: badTarget, offset: 0, data: Buffer.from('abcd').toString('base64') });
    const mismatch = call({ kind: 'fs.uploadFinish', transferId: bad, path: badTarget, size: 4, sha256: '0'.repeat(64), overwrite: false });
    expect(await codeOf(mismatch)).toBe('CONFLICT');
    expect((await readdir(dir)).filter((n) => n.includes('bad.bin'))).toEqual([]);

    // An existing file is not replaced unless asked.
    expect(await codeOf(uploadFile(call, source, target))).toBe('CONFLICT');
    expect((await readdir(dir)).filter((n) => n.endsWith('.ninjait-part'))).toEqual([]);
  }, 60_000);

  it('lists folders, keeps transfers inside the allowed roots whatever the symlinks and dots say', async () => {
    const root = join(dir, 'allowed');
    await mkdir(join(root, 'sub'), { recursive: true });
    await writeFile(join(root, 'sub', 'a.txt'), 'hello');
    await symlink('/etc', join(root, 'escape'));
    const confined = await x.enroll('x-remote-confined');
    const confinedAgent = await startAgent(h.server.url, confined, undefined, { fileRoots: [root] });
    try {
      await until(async () => (await measureEchoRoundTrip(techWs.client, confined.deviceId, { timeoutMs: 5_000 }).catch(() => null)) !== null, 20_000, 200);
      const listing = await x.viewer.remote.files.list.query({ deviceId: confined.deviceId, path: root });
      expect(listing.entries.map((e) => [e.name, e.type])).toEqual([['sub', 'dir'], ['escape', 'link']]);
      const sub = await x.viewer.remote.files.list.query({ deviceId: confined.deviceId, path: `${root}/sub` });
      expect(sub.entries).toEqual([expect.objectContaining({ name: 'a.txt', type: 'file', size: 5 })]);
      const list = (path: string) => codeOf(x.viewer.remote.files.list.query({ deviceId: confined.deviceId, path }));
      expect(await list('/etc')).toBe('FORBIDDEN');
      expect(await list(`${root}/escape`)).toBe('FORBIDDEN');
      expect(await list(`${root}/sub/../../`)).toBe('FORBIDDEN');
      expect(await list('relative/path')).toBe('BAD_REQUEST');
      expect(await list(`${root}/missing`)).toBe('NOT_FOUND');
      expect(await codeOf(x.technician.remote.files.downloadBegin.mutate({ deviceId: confined.deviceId, path: `${root}/escape/hostname` }))).toBe('FORBIDDEN');
      expect(await codeOf(x.technician.remote.files.uploadBegin.mutate({
        deviceId: confined.deviceId, transferId: crypto.randomUUID(), path: `${root}/escape/evil`, size: 1, overwrite: false,
      }))).toBe('FORBIDDEN');
    } finally {
      await confinedAgent.stop();
    }
  }, 60_000);

  it('copies a folder tree to the device and back, file by file with equal SHA-256; links are skipped, folders audited', async () => {
    const tree = join(dir, 'tree');
    await mkdir(join(tree, 'a', 'b', 'c'), { recursive: true });
    await mkdir(join(tree, 'empty'));
    await writeFile(join(tree, 'top.txt'), 'top');
    await writeFile(join(tree, 'a', 'zero.bin'), '');
    await randomFile(join(tree, 'a', 'b', 'c', 'deep.bin'), 3 * 1024 * 1024 + 17);
    await symlink('/etc', join(tree, 'a', 'etc-link'));
    const onDevice = join(dir, 'tree-on-device');
    const call = personCall(x.technician, device.deviceId);
    const files: string[] = [];
    const up = await uploadFolder(call, tree, onDevice, { onFile: (name) => void files.push(name) });
    expect(up).toEqual({ path: onDevice, files: 3, folders: 5, bytes: 3 + 3 * 1024 * 1024 + 17, skipped: ['a/etc-link'] });
    expect(files.sort()).toEqual(['a/b/c/deep.bin', 'a/zero.bin', 'top.txt']);
    expect(await sha256OfFile(join(onDevice, 'a', 'b', 'c', 'deep.bin'))).toBe(await sha256OfFile(join(tree, 'a', 'b', 'c', 'deep.bin')));
    expect(await readdir(join(onDevice, 'empty'))).toEqual([]);
    expect((await readdir(join(onDevice, 'a'))).sort()).toEqual(['b', 'zero.bin']);
    // Again into the same place: the folders exist, the files are refused (no --force) before any is replaced.
    await expect(uploadFolder(call, tree, onDevice)).rejects.toMatchObject({ data: { code: 'CONFLICT' } });

    const back = join(dir, 'tree-back');
    const down = await downloadFolder(call, onDevice, back);
    expect(down).toEqual({ path: onDevice, files: 3, folders: 5, bytes: up.bytes, skipped: [] });
    expect(await sha256OfFile(join(back, 'a', 'b', 'c', 'deep.bin'))).toBe(await sha256OfFile(join(tree, 'a', 'b', 'c', 'deep.bin')));
    expect((await stat(join(back, 'a', 'zero.bin'))).size).toBe(0);
    expect(await readdir(join(back, 'empty'))).toEqual([]);

    // A folder is made inside an existing one only, by technicians of the device's organization.
    expect(await codeOf(x.technician.remote.files.mkdir.mutate({ deviceId: device.deviceId, path: join(dir, 'no', 'such', 'parent') }))).toBe('NOT_FOUND');
    expect(await codeOf(x.technician.remote.files.mkdir.mutate({ deviceId: device.deviceId, path: join(onDevice, 'top.txt') }))).toBe('CONFLICT');
    expect(await codeOf(x.viewer.remote.files.mkdir.mutate({ deviceId: device.deviceId, path: join(dir, 'by-viewer') }))).toBe('FORBIDDEN');
    expect(await codeOf(y.technician.remote.files.mkdir.mutate({ deviceId: device.deviceId, path: join(dir, 'by-other-org') }))).toBe('NOT_FOUND');
    const { rows } = await h.server.services.db.query<{ doc: { details: { path: string } } }>(
      `SELECT doc FROM audit_log WHERE organization_id = $1 AND action = 'file.mkdir'`, [x.orgId]);
    expect(rows.map((r) => r.doc.details.path).sort()).toEqual([onDevice, join(onDevice, 'a'), join(onDevice, 'a', 'b'), join(onDevice, 'a', 'b', 'c'), join(onDevice, 'empty')].sort());
    await rm(tree, { recursive: true });
    await rm(onDevice, { recursive: true });
    await rm(back, { recursive: true });
  }, 120_000);

  it('lists processes, kills one started for the test; viewers only read, other organizations see nothing', async () => {
    const child = spawn('sleep', ['300'], { stdio: 'ignore', detached: true });
    const pid = child.pid!;
    try {
      const { processes } = await x.viewer.remote.processes.list.query({ deviceId: device.deviceId });
      expect(processes.find((p) => p.pid === pid)).toMatchObject({ name: 'sleep' });
      expect(await codeOf(x.viewer.remote.processes.kill.mutate({ deviceId: device.deviceId, pid, signal: 'SIGTERM' }))).toBe('FORBIDDEN');
      expect(await codeOf(y.technician.remote.processes.kill.mutate({ deviceId: device.deviceId, pid, signal: 'SIGTERM' }))).toBe('NOT_FOUND');
      expect(await codeOf(y.technician.remote.processes.list.query({ deviceId: device.deviceId }))).toBe('NOT_FOUND');
      expect(await codeOf(y.technician.remote.files.list.query({ deviceId: device.deviceId, path: '/' }))).toBe('NOT_FOUND');
      expect(await codeOf(x.technician.remote.processes.kill.mutate({ deviceId: device.deviceId, pid: process.pid, signal: 'SIGTERM' }))).toBe('FORBIDDEN');
      await x.technician.remote.processes.kill.mutate({ deviceId: device.deviceId, pid, signal: 'SIGTERM' });
      await until(() => processGone(pid), 5_000);
      const { rows } = await h.server.services.db.query(`SELECT 1 FROM audit_log WHERE organization_id = $1 AND action = 'process.kill'`, [x.orgId]);
      expect(rows.length).toBeGreaterThanOrEqual(1);
    } finally {
      child.kill('SIGKILL');
    }
  }, 30_000);

  it('answers services and OS logs with the data or a sentence saying what this device lacks', async () => {
    for (const request of [
      () => x.viewer.remote.services.list.query({ deviceId: device.deviceId }),
      () => x.viewer.remote.logs.query.query({ deviceId: device.deviceId, lines: 20, filter: 'a' }),
    ]) {
      const outcome = await request().then((value) => ({ ok: true as const, value }), (error: { data?: { code?: string }; message: string }) => ({ ok: false as const, error }));
      if (!outcome.ok) {
        expect(outcome.error.data?.code).toBe('BAD_REQUEST');
        expect(outcome.error.message).toMatch(/not (available|running)|No OS log/);
      }
    }
    expect(await codeOf(x.viewer.remote.services.control.mutate({ deviceId: device.deviceId, name: 'cron', action: 'restart' }))).toBe('FORBIDDEN');
    expect(await codeOf(x.technician.remote.services.control.mutate({ deviceId: device.deviceId, name: '--evil', action: 'restart' }))).toBe('BAD_REQUEST');
  }, 60_000);

  it('reports a full disk as ENOSPC up front', async () => {
    const huge = 60 * 1024 ** 3;
    const free = await (await import('node:fs/promises')).statfs(dir);
    if (free.bavail * free.bsize > huge) return void console.log('skipped: this disk has more than 60 GiB free');
    const error = await x.technician.remote.files.uploadBegin.mutate({
      deviceId: device.deviceId, transferId: crypto.randomUUID(), path: join(dir, 'huge.bin'), size: huge, overwrite: false,
    }).catch((e: { data?: { code?: string }; message: string }) => e);
    expect(error).toMatchObject({ data: { code: 'PAYLOAD_TOO_LARGE' } });
    expect((error as Error).message).toContain('ENOSPC');
    expect(await stat(dir).then(async () => (await readdir(dir)).filter((n) => n.includes('huge')))).toEqual([]);
  });
});
