import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeChunkFrame, decodeUploadFrame, allocChunkFrame, CHUNK_FRAME_HEADER_BYTES, type AgentMessage, type RemoteMessage } from '@ninjait/shared';
import { createMemoryCache } from '../../stores/cache/memory/memory-cache.ts';
import { deviceChannel } from '../commands/channels.ts';
import type { LocalDevices } from '../commands/index.ts';
import { createDeviceRpc } from './device-rpc.ts';

const DEVICE = randomUUID();
const OTHER = randomUUID();

/** A device stream on this instance that records what it was sent. */
function localDevice() {
  const sent: RemoteMessage[] = [];
  const local = { deliver: (_deviceId: string, message: AgentMessage) => (sent.push(message as RemoteMessage), true) } as unknown as LocalDevices;
  return { local, sent, next: async () => { while (sent.length === 0) await new Promise((r) => setTimeout(r, 1)); return sent.shift()!; } };
}

const frameFor = (requestId: string, offset: number, data: Buffer) => {
  const frame = allocChunkFrame(requestId, offset, data.length);
  data.copy(frame, CHUNK_FRAME_HEADER_BYTES);
  return decodeChunkFrame(frame)!;
};

describe('device RPC: download chunks as binary frames', () => {
  const cache = createMemoryCache();

  it('offers a binary answer for chunks only, and takes the frame as the bytes', async () => {
    const device = localDevice();
    const rpc = createDeviceRpc({ cache, local: device.local });
    const data = randomBytes(1000);
    const read = rpc.readChunk(DEVICE, '/f', 4096, 1000);
    const asked = await device.next();
    expect(asked).toMatchObject({ type: 'remote', answer: 'binary', op: { kind: 'fs.downloadChunk', offset: 4096, length: 1000 } });
    expect(await rpc.fromAgentFrame(DEVICE, frameFor(asked.requestId, 4096, data))).toEqual({ accepted: true });
    expect((await read).equals(data)).toBe(true);
    // Answered: nothing is left pending for a replay to hit.
    expect(await cache.get(`remote-request:${asked.requestId}`)).toBeNull();

    const listing = rpc.call(DEVICE, { kind: 'fs.list', path: '/' });
    const listAsked = await device.next();
    expect(listAsked.answer).toBeUndefined();
    await rpc.fromAgent(DEVICE, { requestId: listAsked.requestId, ok: true, result: { path: '/', entries: [], omitted: 0 } });
    expect(await listing).toEqual({ path: '/', entries: [], omitted: 0 });
  });

  it('keeps a chunk asked of a device whose stream is here out of the cache: no key, no subscription, no round trip', async () => {
    const device = localDevice();
    const used: string[] = [];
    const counted = new Proxy(cache, { get: (target, key) => (used.push(String(key)), Reflect.get(target, key)) });
    const rpc = createDeviceRpc({ cache: counted, local: device.local });
    const read = rpc.readChunk(DEVICE, '/f', 0, 4);
    const asked = await device.next();
    expect(await rpc.fromAgentFrame(DEVICE, frameFor(asked.requestId, 0, Buffer.from('abcd')))).toEqual({ accepted: true });
    expect((await read).toString()).toBe('abcd');
    expect(used).toEqual([]);
    // Another device's frame for it is still refused (it looks in the cache, and finds nothing).
    const again = rpc.readChunk(DEVICE, '/f', 4, 4);
    const second = await device.next();
    expect(await rpc.fromAgentFrame(OTHER, frameFor(second.requestId, 4, Buffer.from('efgh')))).toEqual({ accepted: false });
    expect(await rpc.fromAgentFrame(DEVICE, frameFor(second.requestId, 4, Buffer.from('efgh')))).toEqual({ accepted: true });
    expect((await again).toString()).toBe('efgh');
  });

  it('refuses frames that answer no request of this device, or another range, and keeps waiting for the real one', async () => {
    const device = localDevice();
    const rpc = createDeviceRpc({ cache, local: device.local });
    const read = rpc.readChunk(DEVICE, '/f', 0, 10);
    const { requestId } = await device.next();
    const listing = rpc.call(DEVICE, { kind: 'fs.list', path: '/' });
    const listAsked = await device.next();
    expect(await rpc.fromAgentFrame(DEVICE, frameFor(randomUUID(), 0, Buffer.alloc(10)))).toEqual({ accepted: false });
    expect(await rpc.fromAgentFrame(OTHER, frameFor(requestId, 0, Buffer.alloc(10)))).toEqual({ accepted: false });
    expect(await rpc.fromAgentFrame(DEVICE, frameFor(requestId, 1024, Buffer.alloc(10)))).toEqual({ accepted: false });
    expect(await rpc.fromAgentFrame(DEVICE, frameFor(requestId, 0, Buffer.alloc(11)))).toEqual({ accepted: false });
    // A frame cannot answer a request that was not for a chunk.
    expect(await rpc.fromAgentFrame(DEVICE, frameFor(listAsked.requestId, 0, Buffer.alloc(1)))).toEqual({ accepted: false });
    expect(await rpc.fromAgentFrame(DEVICE, frameFor(requestId, 0, Buffer.from('0123456789')))).toEqual({ accepted: true });
    expect((await read).toString()).toBe('0123456789');
    // A second answer to the same request finds nothing.
    expect(await rpc.fromAgentFrame(DEVICE, frameFor(requestId, 0, Buffer.from('0123456789')))).toEqual({ accepted: false });
    await rpc.fromAgent(DEVICE, { requestId: listAsked.requestId, ok: true, result: { path: '/', entries: [], omitted: 0 } });
    await listing;
  });

  it('takes a JSON answer from an agent that ignores the offer, checked against the range asked', async () => {
    const device = localDevice();
    const rpc = createDeviceRpc({ cache, local: device.local });
    const read = rpc.readChunk(DEVICE, '/f', 0, 3);
    const asked = await device.next();
    await rpc.fromAgent(DEVICE, { requestId: asked.requestId, ok: true, result: { offset: 0, data: Buffer.from('abc').toString('base64') } });
    expect((await read).toString()).toBe('abc');

    const shifted = rpc.readChunk(DEVICE, '/f', 3, 3);
    const again = await device.next();
    await rpc.fromAgent(DEVICE, { requestId: again.requestId, ok: true, result: { offset: 0, data: Buffer.from('abc').toString('base64') } });
    await expect(shifted).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('does not understand') });

    // The general form (the console's chunk procedure) gets base64 whichever way the bytes came.
    const viaCall = rpc.call(DEVICE, { kind: 'fs.downloadChunk', path: '/f', offset: 0, length: 3 });
    const third = await device.next();
    await rpc.fromAgentFrame(DEVICE, frameFor(third.requestId, 0, Buffer.from('xyz')));
    expect(await viaCall).toEqual({ offset: 0, data: Buffer.from('xyz').toString('base64') });
  });

  it('relays a frame taken on another instance to the one that asked, as base64 over the pub/sub', async () => {
    const asking = createDeviceRpc({ cache });
    const holding = createDeviceRpc({ cache });
    const channel: RemoteMessage[] = [];
    const stop = await cache.subscribe(deviceChannel(DEVICE), (raw) => void channel.push(JSON.parse(raw) as RemoteMessage));
    try {
      const data = randomBytes(4096);
      const read = asking.readChunk(DEVICE, '/f', 0, 4096);
      while (channel.length === 0) await new Promise((r) => setTimeout(r, 1));
      expect(await holding.fromAgentFrame(DEVICE, frameFor(channel[0]!.requestId, 0, data))).toEqual({ accepted: true });
      expect((await read).equals(data)).toBe(true);
    } finally {
      await stop();
    }
  });
});

describe('device RPC: upload chunks as binary frames', () => {
  const cache = createMemoryCache();
  const transferId = randomUUID();

  it('sends an upload chunk as one frame when the device takes them, and only that device may answer it', async () => {
    const device = localDevice();
    const frames: Buffer[] = [];
    const rpc = createDeviceRpc({ cache, local: device.local, sendUploadFrame: (deviceId, frame) => deviceId === DEVICE && frames.push(frame) > 0 });
    const data = randomBytes(3000);
    const written = rpc.writeChunk(DEVICE, { transferId, path: '/up', offset: 8192, data: [data.subarray(0, 1000), data.subarray(1000)] });
    expect(frames).toHaveLength(1);
    const frame = decodeUploadFrame(frames[0]!)!;
    expect(frame).toMatchObject({ transferId, path: '/up', offset: 8192 });
    expect(frame.data.equals(data)).toBe(true);
    // Nothing went as JSON, nor through the cache.
    expect(device.sent).toEqual([]);
    expect(await cache.get(`remote-request:${frame.requestId}`)).toBeNull();
    expect(await rpc.fromAgent(OTHER, { requestId: frame.requestId, ok: true, result: { offset: 11_192 } })).toEqual({ accepted: false });
    expect(await rpc.fromAgent(DEVICE, { requestId: frame.requestId, ok: true, result: { offset: 11_192 } })).toEqual({ accepted: true });
    expect(await written).toEqual({ offset: 11_192 });
    // Answered once: a replay finds nothing.
    expect(await rpc.fromAgent(DEVICE, { requestId: frame.requestId, ok: true, result: { offset: 11_192 } })).toEqual({ accepted: false });
  });

  it('sends the chunk as base64 in JSON when the device takes no frames (an older agent, or its socket on another instance)', async () => {
    const device = localDevice();
    const rpc = createDeviceRpc({ cache, local: device.local, sendUploadFrame: () => false });
    const written = rpc.writeChunk(DEVICE, { transferId, path: '/up', offset: 0, data: [Buffer.from('ab'), Buffer.from('cd')] });
    const asked = await device.next();
    expect(asked).toMatchObject({ type: 'remote', op: { kind: 'fs.uploadChunk', transferId, path: '/up', offset: 0, data: Buffer.from('abcd').toString('base64') } });
    expect(asked.answer).toBeUndefined();
    expect(await rpc.fromAgent(DEVICE, { requestId: asked.requestId, ok: true, result: { offset: 4 } })).toEqual({ accepted: true });
    expect(await written).toEqual({ offset: 4 });
  });
});
