import { createServer as createHttpServer } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { claimPort, listenError, listenOn, ListenError, MAX_WAITING_CONNECTIONS } from './listen.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
const closeLater = (server: Server) => {
  server.unref();
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
};

/** Opens a connection and resolves with the whole answer once the server ends it. */
const answerOf = (socket: Socket) => new Promise<string>((resolve) => {
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
  socket.on('close', () => resolve(text));
  socket.on('error', () => undefined);
});
const get = (port: number, path: string) => {
  const socket = connect(port, '127.0.0.1');
  socket.write(`GET ${path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n`);
  return answerOf(socket);
};

describe('claimPort and listenOn', () => {
  it('refuses a busy port with a message naming PORT, and HOST for an address this machine lacks', async () => {
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    closeLater(squatter);
    const port = (squatter.address() as { port: number }).port;
    const busy = await claimPort(port, '127.0.0.1').catch((error: unknown) => error);
    expect(busy).toBeInstanceOf(ListenError);
    expect((busy as Error).message).toMatch(new RegExp(`^PORT ${port} is already in use on 127\\.0\\.0\\.1`));
    // TEST-NET-3 (RFC 5737) is never a local address.
    expect(((await claimPort(0, '203.0.113.7').catch((error: unknown) => error)) as Error).message).toMatch(/^HOST 203\.0\.113\.7 is not an address/);
    expect(listenError(Object.assign(new Error('denied'), { code: 'EACCES' }), 80, '0.0.0.0').message).toMatch(/^PORT 80 on 0\.0\.0\.0 needs privileges/);
  });

  it('answers requests sent during start-up once the HTTP server takes the port over, and later ones as usual', async () => {
    const claimed = await claimPort(0, '127.0.0.1');
    const early = [get(claimed.port, '/first'), get(claimed.port, '/second')];
    await new Promise((resolve) => setTimeout(resolve, 200));
    const http = createHttpServer((req, res) => res.end(`served ${req.url}`));
    await listenOn(http, claimed);
    closeLater(http);
    expect((http.address() as { port: number }).port).toBe(claimed.port);
    const answers = await Promise.all([...early, get(claimed.port, '/later')]);
    expect(answers.map((answer) => answer.split('\r\n\r\n')[1])).toEqual(['served /first', 'served /second', 'served /later']);
    await claimed.release(); // taken: a no-op, the HTTP server keeps the port
    expect(await get(claimed.port, '/still')).toMatch(/served \/still$/);
  });

  it(`holds at most ${MAX_WAITING_CONNECTIONS} connections during start-up and closes the rest at once`, async () => {
    const claimed = await claimPort(0, '127.0.0.1');
    const sockets = Array.from({ length: MAX_WAITING_CONNECTIONS + 20 }, () => connect(claimed.port, '127.0.0.1'));
    const closedEarly = sockets.map((socket) => new Promise<boolean>((resolve) => {
      socket.on('error', () => undefined);
      socket.on('close', () => resolve(true));
      setTimeout(() => resolve(false), 1_500).unref();
    }));
    expect((await Promise.all(closedEarly)).filter(Boolean)).toHaveLength(20);
    await claimed.release();
    sockets.forEach((socket) => socket.destroy());
  });

  it('frees the port and drops waiting connections when start-up fails before the HTTP server took it', async () => {
    const claimed = await claimPort(0, '127.0.0.1');
    const waiting = connect(claimed.port, '127.0.0.1');
    const answer = answerOf(waiting);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await claimed.release();
    expect(await answer).toBe('');
    const again = await claimPort(claimed.port, '127.0.0.1');
    await again.release();
  });
});
