import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { observingWebSocket } from './observing-ws.ts';
import { isLoopback, maskOption } from './ws-mask.ts';

describe('maskOption', () => {
  it('zero-masks over wss:// and to loopback addresses only', () => {
    for (const url of ['wss://rmm.example.com/trpc', 'wss://10.0.0.5/trpc', 'ws://127.0.0.1:3000/trpc', 'ws://127.8.9.1/trpc', 'ws://[::1]:3000/trpc', 'ws://localhost:3000/trpc', 'ws://[::ffff:127.0.0.1]/trpc']) {
      expect(maskOption(url).generateMask, url).toBeTypeOf('function');
    }
    for (const url of ['ws://rmm.example.com/trpc', 'ws://10.0.0.5:3000/trpc', 'ws://128.0.0.1/trpc', 'ws://[::2]/trpc', 'ws://localhost.example.com/trpc', 'ws://[::ffff:10.0.0.1]/trpc']) {
      expect(maskOption(url), url).toEqual({});
    }
    expect(isLoopback('127.0.0.1')).toBe(true);
    expect(isLoopback('1.2.3.4')).toBe(false);
  });
});

describe('frames to a loopback server', () => {
  let wss: WebSocketServer;
  let url: string;
  const raw: Buffer[] = [];
  const received: Buffer[] = [];
  beforeAll(async () => {
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(wss, 'listening');
    url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/trpc`;
    wss.on('connection', (socket, req) => {
      // A second listener beside ws's own: the bytes as they came off the wire.
      req.socket.on('data', (bytes: Buffer) => raw.push(bytes));
      socket.on('message', (data: Buffer) => received.push(data));
    });
  });
  afterAll(async () => {
    for (const client of wss.clients) client.terminate();
    await new Promise((resolve) => wss.close(resolve));
  });

  it('go with a zero mask (the payload as it is) and the server reads them as usual', async () => {
    const Socket = observingWebSocket(() => undefined, maskOption(url));
    const client = new Socket(url) as WebSocket;
    await once(client, 'open');
    const payload = Buffer.from('a chunk of a file, 0123456789'.repeat(10));
    client.send(payload);
    while (received.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    client.close();
    expect(received[0]).toEqual(payload);
    const wire = Buffer.concat(raw);
    // 0x82: a final binary frame; 0x80 | 126: masked, 16-bit length; then the length, the mask.
    expect([wire[0], wire[1]]).toEqual([0x82, 0x80 | 126]);
    expect(wire.readUInt16BE(2)).toBe(payload.length);
    expect([...wire.subarray(4, 8)]).toEqual([0, 0, 0, 0]);
    expect(wire.subarray(8, 8 + payload.length)).toEqual(payload);
  });
});
