import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeServerCerts, type ServerCerts, type TestCert } from '../testing/certs.ts';
import { fixedTrust, serverTransport } from './server-transport.ts';
import { ServerKeyMismatchError } from './tls-connect.ts';

/**
 * The connection a download stream opens (ServerTransport.upgrade) over real TLS: the same pins
 * as the agent's WebSocket, the path below the server URL's prefix, and a refusal as an error.
 */
let certs: ServerCerts;
beforeAll(() => void (certs = makeServerCerts('ninjait-upgrade-')));
afterAll(() => certs.cleanup());

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A server that upgrades `/prefix/stream` (answering 101 and echoing what it reads) and answers 404 otherwise; it records what it saw. */
async function upgrading(tls: TestCert | null) {
  const seen: { path: string; ticket: string | undefined }[] = [];
  const server = tls ? createTlsServer({ cert: tls.cert, key: tls.key }) : createServer();
  server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
    seen.push({ path: req.url ?? '', ticket: req.headers['x-ticket'] as string | undefined });
    if (req.url !== '/prefix/stream' || req.headers.upgrade !== 'test-stream') {
      socket.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
      return;
    }
    socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: test-stream\r\n\r\n');
    socket.pipe(socket);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}/prefix/`, seen };
}

async function echo(socket: Duplex, text: string): Promise<string> {
  socket.write(text);
  return new Promise((resolve) => socket.once('data', (d: Buffer) => resolve(d.toString())));
}

describe('ServerTransport.upgrade', () => {
  it('opens the connection through the pinned TLS, below the URL\'s prefix, with the headers given', async () => {
    const s = await upgrading(certs.a);
    const socket = await serverTransport(s.url, fixedTrust([certs.a.pin])).upgrade('/stream', 'test-stream', { 'x-ticket': 't1' });
    expect(await echo(socket, 'bytes')).toBe('bytes');
    socket.destroy();
    expect(s.seen).toEqual([{ path: '/prefix/stream', ticket: 't1' }]);
  });

  it('sends nothing to a server whose key is not pinned: the ticket never leaves the agent', async () => {
    const s = await upgrading(certs.b);
    await expect(serverTransport(s.url, fixedTrust([certs.a.pin])).upgrade('/stream', 'test-stream', { 'x-ticket': 't2' })).rejects.toBeInstanceOf(ServerKeyMismatchError);
    expect(s.seen).toEqual([]);
  });

  it('rejects when the server answers anything but 101, over plain HTTP too', async () => {
    const s = await upgrading(null);
    await expect(serverTransport(s.url, fixedTrust(null)).upgrade('/elsewhere', 'test-stream', {})).rejects.toThrow(/answered 404 instead of opening the test-stream connection/);
    const socket = await serverTransport(s.url, fixedTrust(null)).upgrade('/stream', 'test-stream', {});
    expect(await echo(socket, 'plain')).toBe('plain');
    socket.destroy();
  });
});
