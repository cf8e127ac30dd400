import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { relayStream, type RelayTarget, type StreamRelay } from './stream-relay.ts';

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const RING = 256 * 1024;

/**
 * A caller that reads slowly: each write is taken (copied) and acknowledged a little later, and
 * the bytes the relay has lent it and not yet had back are watched, which the ring bounds.
 */
function slowTarget(delayMs: number) {
  const parts: Buffer[] = [];
  let outstanding = 0;
  let maxOutstanding = 0;
  let ended = false;
  const target: RelayTarget = {
    write(chunk, done) {
      parts.push(Buffer.from(chunk));
      outstanding += chunk.length;
      maxOutstanding = Math.max(maxOutstanding, outstanding);
      setTimeout(() => {
        outstanding -= chunk.length;
        done();
      }, delayMs);
      return true;
    },
    end(done) {
      ended = true;
      setImmediate(done);
    },
  };
  return { target, received: () => Buffer.concat(parts), maxOutstanding: () => maxOutstanding, ended: () => ended };
}

/** A server whose upgrades are relayed with `options`; `device()` opens the device's side. */
async function relayServer(length: number, into: RelayTarget, idleMs = 10_000) {
  const server: Server = createServer();
  const relays: StreamRelay[] = [];
  server.on('upgrade', (_req, socket: Duplex, head: Buffer) => {
    const relay = relayStream({ socket, head, length, into, ringBytes: RING, idleMs });
    relay.done.catch(() => undefined);
    relays.push(relay);
    relay.socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: t\r\n\r\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    server,
    relay: async () => {
      for (let i = 0; i < 100 && relays.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      return relays[0]!;
    },
    async device(): Promise<Socket> {
      const socket = connect(port, '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write('GET /s HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: t\r\n\r\n');
      await new Promise((resolve) => socket.once('data', resolve));
      socket.on('error', () => undefined);
      return socket;
    },
  };
}

async function write(socket: Socket, data: Buffer) {
  for (let at = 0; at < data.length; at += 64 * 1024) {
    if (!socket.write(data.subarray(at, at + 64 * 1024))) await new Promise((resolve) => socket.once('drain', resolve));
  }
}

describe('relayStream', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('relays exactly the range to a slow caller, never lending it more than the ring', async () => {
    const data = randomBytes(6 * 1024 * 1024 + 99);
    const slow = slowTarget(2);
    const s = await relayServer(data.length, slow.target);
    servers.push(s.server);
    const device = await s.device();
    await write(device, data);
    device.end();
    await (await s.relay()).done;
    expect(slow.ended()).toBe(true);
    expect(sha(slow.received())).toBe(sha(data));
    expect(slow.maxOutstanding()).toBeLessThanOrEqual(RING);
    // The device's socket is closed once its end arrived.
    await new Promise((resolve) => (device.closed ? resolve(null) : device.once('close', resolve)));
  }, 30_000);

  it('rejects a stream that ends short, and one that sends more than asked, without ending the caller', async () => {
    const short = slowTarget(0);
    const s1 = await relayServer(1_000_000, short.target);
    servers.push(s1.server);
    const d1 = await s1.device();
    await write(d1, randomBytes(400_000));
    d1.end();
    await expect((await s1.relay()).done).rejects.toThrow(/ended after 400000 of 1000000 bytes/);
    expect(short.ended()).toBe(false);

    const long = slowTarget(0);
    const s2 = await relayServer(100_000, long.target);
    servers.push(s2.server);
    const d2 = await s2.device();
    await write(d2, randomBytes(100_001));
    await expect((await s2.relay()).done).rejects.toThrow(/more than the 100000 bytes/);
    expect(long.ended()).toBe(false);
    expect(long.received().length).toBeLessThan(100_001);
  }, 30_000);

  it('abandons a stream that moves nothing for the idle time', async () => {
    const idle = slowTarget(0);
    const s = await relayServer(1_000, idle.target, 200);
    servers.push(s.server);
    const device = await s.device();
    device.write(randomBytes(10));
    await expect((await s.relay()).done).rejects.toThrow(/moved nothing/);
    await new Promise((resolve) => (device.closed ? resolve(null) : device.once('close', resolve)));
  }, 30_000);
});
