import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readUpgradedSocket, type UpgradedReader } from './upgraded-reader.ts';

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Upgrades every request and reads it with readUpgradedSocket, pausing after every `pauseEvery` reads. */
function reading(server: Server, pauseEvery: number) {
  return new Promise<{ received: Buffer; reader: UpgradedReader; pauses: number; ended: boolean }>((resolve) => {
    server.once('upgrade', (_req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const parts: Buffer[] = [];
      let reads = 0;
      let pauses = 0;
      const reader = readUpgradedSocket(socket, head, {
        bytes(chunk) {
          // The chunk is lent: a copy is what the caller keeps.
          parts.push(Buffer.from(chunk));
          if (++reads % pauseEvery !== 0) return true;
          pauses += 1;
          setTimeout(() => reader.resume(), 1);
          return false;
        },
        end: () => {
          reader.socket.end();
          resolve({ received: Buffer.concat(parts), reader, pauses, ended: true });
        },
        close: () => resolve({ received: Buffer.concat(parts), reader, pauses, ended: false }),
      });
      reader.socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n');
    });
  });
}

/** Sends the upgrade request with `first` in the same write (it arrives as the upgrade's head), then `rest` once answered. */
async function send(socket: Socket, first: Buffer, rest: Buffer) {
  await new Promise<void>((resolve) => socket.once(socket.constructor.name === 'TLSSocket' ? 'secureConnect' : 'connect', () => resolve()));
  socket.write(Buffer.concat([Buffer.from('GET /x HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n'), first]));
  await new Promise<void>((resolve) => socket.once('data', () => resolve()));
  for (let at = 0; at < rest.length; at += 1024 * 1024) {
    if (!socket.write(rest.subarray(at, at + 1024 * 1024))) await new Promise((resolve) => socket.once('drain', resolve));
  }
  socket.end();
}

describe('readUpgradedSocket', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ninjait-upgraded-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a plain connection into one reused buffer, through pauses, head first, and lets the server close', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const first = randomBytes(3_000);
    const rest = randomBytes(20 * 1024 * 1024 + 7);
    const got = reading(server, 5);
    await send(netConnect(port, '127.0.0.1'), first, rest);
    const { received, reader, pauses, ended } = await got;
    expect(reader.reusesBuffer).toBe(true);
    expect(ended).toBe(true);
    expect(pauses).toBeGreaterThan(10);
    expect(received.length).toBe(first.length + rest.length);
    expect(sha(received)).toBe(sha(Buffer.concat([first, rest])));
    // The accepted socket the handle left is closed with it: the server stops without waiting on it.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('server.close() is still waiting for the upgraded connection')), 5_000);
      server.close(() => resolve(clearTimeout(timer)));
    });
  }, 30_000);

  it('falls back to the socket\'s own reads on TLS, with the same bytes and pauses', async () => {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    const server = createTlsServer({ cert: readFileSync(join(dir, 'cert.pem')), key: readFileSync(join(dir, 'key.pem')) });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const first = randomBytes(100);
    const rest = randomBytes(4 * 1024 * 1024 + 3);
    const got = reading(server, 3);
    await send(tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false }), first, rest);
    const { received, reader, pauses } = await got;
    expect(reader.reusesBuffer).toBe(false);
    expect(pauses).toBeGreaterThan(10);
    expect(sha(received)).toBe(sha(Buffer.concat([first, rest])));
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }, 30_000);

  it('reports a connection that drops part way as closed, not ended', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const got = reading(server, 1_000);
    const socket = netConnect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('GET /x HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n');
    await new Promise((resolve) => socket.once('data', resolve));
    socket.write(randomBytes(100_000), () => socket.resetAndDestroy());
    const { received, ended } = await got;
    expect(ended).toBe(false);
    expect(received.length).toBeLessThanOrEqual(100_000);
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }, 30_000);
});
