import { randomBytes } from 'node:crypto';
import { mkdirSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { memoryLogger } from '../testing/log.ts';
import { tempDir } from '../testing/temp.ts';
import { createDownloadStreams, MAX_STREAMS } from './download-streams.ts';

const tmp = tempDir('ninjait-streams-');
afterAll(() => tmp.cleanup());
const TICKET = 'A'.repeat(43);

/** A server that keeps what each connection sends (or reads nothing, to hold the sender back). */
async function receiver(read = true) {
  const received: Promise<Buffer>[] = [];
  const accepted = new Set<Socket>();
  const server: Server = createServer((socket) => {
    accepted.add(socket);
    socket.on('error', () => undefined);
    if (!read) return socket.pause();
    const parts: Buffer[] = [];
    received.push(new Promise((resolve) => {
      socket.on('data', (d: Buffer) => parts.push(d));
      socket.on('end', () => {
        socket.end();
        resolve(Buffer.concat(parts));
      });
    }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  /** The agent's side of each connection. */
  const opened: Socket[] = [];
  const open = async () => {
    const socket: Socket = connect(port, '127.0.0.1');
    opened.push(socket);
    await new Promise((resolve) => socket.once('connect', resolve));
    return socket;
  };
  const close = () => {
    for (const socket of accepted) socket.destroy();
    return new Promise((resolve) => server.close(resolve));
  };
  return { received, open, close, opened };
}

describe('download streams on the agent', () => {
  const servers: { close(): Promise<unknown> }[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close();
  });
  const file = join(tmp.dir, 'data.bin');
  const data = randomBytes(3 * 1024 * 1024 + 5);
  // Larger than what the kernel's socket buffers take from a sender nobody reads (sparse: no disk).
  const large = join(tmp.dir, 'large.bin');
  beforeAll(() => {
    writeFileSync(file, data);
    mkdirSync(join(tmp.dir, 'folder'), { recursive: true });
    writeFileSync(large, '');
    truncateSync(large, 256 * 1024 * 1024);
  });

  it('sends exactly the range asked, and fewer bytes when the file ends first', async () => {
    const r = await receiver();
    servers.push(r);
    const streams = createDownloadStreams({ policy: { platform: process.platform, roots: [] }, open: r.open, log: memoryLogger('silent').log });
    expect(await streams.start({ kind: 'fs.downloadStream', path: file, offset: 1_000, length: 2 * 1024 * 1024, ticket: TICKET })).toEqual({ streaming: true });
    expect((await r.received[0]!).equals(data.subarray(1_000, 1_000 + 2 * 1024 * 1024))).toBe(true);
    await streams.start({ kind: 'fs.downloadStream', path: file, offset: data.length - 10, length: 1_000, ticket: TICKET });
    expect((await r.received[1]!).equals(data.subarray(data.length - 10))).toBe(true);
  });

  it('refuses a folder, a path outside its roots, more than MAX_STREAMS at once, and anything once stopped', async () => {
    const held = await receiver(false);
    servers.push(held);
    const streams = createDownloadStreams({ policy: { platform: process.platform, roots: [tmp.dir] }, open: held.open, log: memoryLogger('silent').log });
    const op = { kind: 'fs.downloadStream' as const, path: large, offset: 0, length: 256 * 1024 * 1024, ticket: TICKET };
    await expect(streams.start({ ...op, path: join(tmp.dir, 'folder') })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(streams.start({ ...op, path: '/etc/hostname' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    // The receiver reads nothing: these stay open, each held back by TCP.
    for (let i = 0; i < MAX_STREAMS; i++) await streams.start(op);
    await expect(streams.start(op)).rejects.toMatchObject({ code: 'CONFLICT' });
    // Stopping breaks them off.
    expect(held.opened.filter((socket) => !socket.destroyed)).toHaveLength(MAX_STREAMS);
    streams.stop();
    expect(held.opened.filter((socket) => !socket.destroyed)).toHaveLength(0);
    await expect(streams.start(op)).rejects.toMatchObject({ code: 'CONFLICT', message: 'the agent is stopping' });
  });
});
