import { randomBytes } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { DEVICE_STREAM_PATH, DEVICE_STREAM_PROTOCOL, DEVICE_STREAM_TICKET_HEADER } from '@ninjait/shared';
import type { OpenStream } from '@ninjait/agent/exec';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTransferFixture, type TransferFixture } from '../../../test-support/transfer-fixture.ts';
import { startAgent } from '../../../test-support/command-fixtures.ts';
import { localAdminByteSource } from '../../cli/download-stream.ts';
import { downloadFile, sha256OfFile } from '../../cli/transfer.ts';

const MiB = 1024 * 1024;

/** What a raw connection to the stream path is answered: the status line, and whether the server then closed it. */
async function upgradeAnswer(url: string, headers: Record<string, string>): Promise<{ status: string; closed: boolean }> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const lines = Object.entries({ host: 'x', connection: 'Upgrade', upgrade: DEVICE_STREAM_PROTOCOL, ...headers }).map(([k, v]) => `${k}: ${v}\r\n`);
  socket.write(`GET ${DEVICE_STREAM_PATH} HTTP/1.1\r\n${lines.join('')}\r\n`);
  let text = '';
  socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
  const closed = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 5_000);
    socket.once('close', () => resolve(clearTimeout(timer) === undefined));
    socket.on('error', () => undefined);
  });
  socket.destroy();
  return { status: text.split('\r\n', 1)[0] ?? '', closed };
}

describe('download streams from the device\'s own connection (pglite + memory, real agents)', () => {
  let f: TransferFixture;
  const agents: { stop(): Promise<void> }[] = [];
  /** A device with its own agent whose stream opener is `wrap`ped (a test's fault), reachable. */
  async function deviceWith(name: string, streams: boolean | ((open: OpenStream) => OpenStream)) {
    const device = await f.x.enroll(name);
    agents.push(await startAgent(f.h.server.url, device, undefined, { streams }));
    await f.reachable(device.deviceId);
    return device.deviceId;
  }
  /** ninjait_download_streams_total by outcome, from /metrics (this machine may read it). */
  async function outcomes(): Promise<Record<string, number>> {
    const text = await (await fetch(`${f.h.server.url}/metrics`)).text();
    return Object.fromEntries([...text.matchAll(/^ninjait_download_streams_total\{outcome="(\w+)"\} (\d+)/gm)].map((m) => [m[1]!, Number(m[2])]));
  }
  const cliStream = (deviceId: string) => localAdminByteSource({ url: f.h.server.url, token: f.adminToken }, { device: deviceId });

  beforeAll(async () => {
    f = await startTransferFixture({ relational: 'pglite', cache: 'memory', org: 'Org Streams', device: 'streams-1', dirPrefix: 'ninjait-streams-' });
  }, 180_000);
  afterAll(async () => {
    await Promise.allSettled(agents.map((a) => a.stop()));
    await f?.stop();
  });

  it('copies a download from a stream the device opens, once per request, resumed after the stream breaks, with equal SHA-256', async () => {
    const source = join(f.dir, 'streamed.bin');
    await writeFile(source, randomBytes(9 * MiB + 4_321));
    const expected = await sha256OfFile(source);
    const opened: number[] = [];
    // The first stream breaks after 3 MiB, as an agent that restarts does; the second is left alone.
    const deviceId = await deviceWith('streams-cut', (open) => async (ticket) => {
      const socket = await open(ticket);
      if (opened.push(Date.now()) > 1) return socket;
      let sent = 0;
      const write = socket.write.bind(socket) as (chunk: Buffer, done?: (error?: Error | null) => void) => boolean;
      socket.write = ((chunk: Buffer, done?: (error?: Error | null) => void) => {
        if ((sent += chunk.length) > 3 * MiB) {
          socket.destroy();
          return false;
        }
        return write(chunk, done);
      }) as typeof socket.write;
      return socket;
    });
    const before = await outcomes();
    const back = join(f.dir, 'streamed.back');
    const result = await downloadFile(f.cliCall(deviceId), source, back, { stream: cliStream(deviceId), retryDelayMs: 50 });
    expect(result.sha256).toBe(expected);
    expect(await sha256OfFile(back)).toBe(expected);
    expect(opened).toHaveLength(2);
    const after = await outcomes();
    expect((after.streamed ?? 0) - (before.streamed ?? 0)).toBe(1);
    expect((after.broken ?? 0) - (before.broken ?? 0)).toBe(1);
    await Promise.all([rm(source), rm(back)]);
  }, 120_000);

  it('goes by chunks when the device cannot open a stream, or does not stream at all', async () => {
    const source = join(f.dir, 'chunked.bin');
    await writeFile(source, randomBytes(5 * MiB + 17));
    const expected = await sha256OfFile(source);
    let tried = 0;
    const unreachable = await deviceWith('streams-unreachable', () => async () => {
      tried += 1;
      throw new Error('the server answered 404 instead of opening the connection');
    });
    const older = await deviceWith('streams-none', false);
    const before = await outcomes();
    for (const deviceId of [unreachable, older]) {
      const back = join(f.dir, `chunked-${deviceId}.back`);
      await downloadFile(f.cliCall(deviceId), source, back, { stream: cliStream(deviceId), retryDelayMs: 50 });
      expect(await sha256OfFile(back)).toBe(expected);
      await rm(back);
    }
    expect(tried).toBe(1);
    expect((await outcomes()).declined! - (before.declined ?? 0)).toBe(2);
    await rm(source);
  }, 120_000);

  it('never writes the caller more than the range, whatever the device sends after it', async () => {
    const source = join(f.dir, 'overlong.bin');
    const size = 3 * MiB;
    await writeFile(source, randomBytes(size));
    const deviceId = await deviceWith('streams-overlong', (open) => async (ticket) => {
      const socket = await open(ticket);
      const end = socket.end.bind(socket) as (done?: () => void) => typeof socket;
      socket.end = ((done?: () => void) => {
        socket.write(Buffer.from('and a few bytes more'));
        return end(done);
      }) as typeof socket.end;
      return socket;
    });
    await f.cliCall(deviceId)({ kind: 'fs.downloadBegin', path: source });
    // The extra bytes come after the range (the whole range arrives and the rest is dropped) or
    // in the same read as its last bytes (the stream is broken off and the body cut short).
    const pieces: Buffer[] = [];
    await (async () => {
      for await (const piece of await cliStream(deviceId)(source, 0, size)) pieces.push(Buffer.from(piece));
    })().catch(() => undefined);
    const received = Buffer.concat(pieces);
    expect(received.length).toBeLessThanOrEqual(size);
    expect(received.equals((await readFile(source)).subarray(0, received.length))).toBe(true);
    await rm(source);
  }, 60_000);

  it('answers 404 and closes an upgrade whose ticket is missing, unknown, malformed or already used', async () => {
    const tickets: string[] = [];
    const deviceId = await deviceWith('streams-tickets', (open) => (ticket) => {
      tickets.push(ticket);
      return open(ticket);
    });
    const source = join(f.dir, 'ticketed.bin');
    await writeFile(source, randomBytes(2 * MiB));
    await downloadFile(f.cliCall(deviceId), source, join(f.dir, 'ticketed.back'), { stream: cliStream(deviceId), retryDelayMs: 50 });
    expect(tickets).toHaveLength(1);
    const url = f.h.server.url;
    const refused = { status: 'HTTP/1.1 404 Not Found', closed: true };
    expect(await upgradeAnswer(url, {})).toEqual(refused);
    expect(await upgradeAnswer(url, { [DEVICE_STREAM_TICKET_HEADER]: randomBytes(32).toString('base64url') })).toEqual(refused);
    expect(await upgradeAnswer(url, { [DEVICE_STREAM_TICKET_HEADER]: 'x'.repeat(4_000) })).toEqual(refused);
    expect(await upgradeAnswer(url, { [DEVICE_STREAM_TICKET_HEADER]: tickets[0]! })).toEqual(refused);
    // Still serving: the refusals cost nothing but their answer.
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    await Promise.all([rm(source), rm(join(f.dir, 'ticketed.back'))]);
  }, 60_000);
});
