import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FILE_CHUNK_BYTES, MAX_TRANSFER_BYTES } from '../schemas/remote.ts';
import { allocChunkFrame, CHUNK_FRAME_HEADER_BYTES, decodeChunkFrame } from './chunk-frames.ts';

function frameOf(requestId: string, offset: number, data: Buffer) {
  const frame = allocChunkFrame(requestId, offset, data.length);
  data.copy(frame, CHUNK_FRAME_HEADER_BYTES);
  return frame;
}

describe('download chunk frames', () => {
  it('carries the request id, the offset and the bytes, and decodes without copying them', () => {
    const requestId = randomUUID();
    const data = randomBytes(FILE_CHUNK_BYTES);
    const frame = frameOf(requestId, 5 * 1024 ** 3 + 7, data);
    const decoded = decodeChunkFrame(frame)!;
    expect(decoded.requestId).toBe(requestId);
    expect(decoded.offset).toBe(5 * 1024 ** 3 + 7);
    expect(decoded.data.equals(data)).toBe(true);
    expect(decoded.data.buffer).toBe(frame.buffer);
    // The end of a file: an empty chunk is still a frame.
    expect(decodeChunkFrame(frameOf(requestId, 0, Buffer.alloc(0)))?.data.length).toBe(0);
  });

  it('refuses frames that are not ours: short, oversized, another version or kind, an offset past the limit', () => {
    const good = frameOf(randomUUID(), 0, Buffer.from('abc'));
    expect(decodeChunkFrame(good.subarray(0, CHUNK_FRAME_HEADER_BYTES - 1))).toBeNull();
    expect(decodeChunkFrame(Buffer.alloc(0))).toBeNull();
    expect(decodeChunkFrame(Buffer.alloc(CHUNK_FRAME_HEADER_BYTES + FILE_CHUNK_BYTES + 1, 1))).toBeNull();
    for (const [at, value] of [[0, 2], [0, 0], [1, 0], [1, 9]] as const) {
      const bad = Buffer.from(good);
      bad[at] = value;
      expect(decodeChunkFrame(bad)).toBeNull();
    }
    const far = Buffer.from(good);
    far.writeBigUInt64BE(BigInt(MAX_TRANSFER_BYTES) + 1n, 18);
    expect(decodeChunkFrame(far)).toBeNull();
    far.writeBigUInt64BE(2n ** 64n - 1n, 18);
    expect(decodeChunkFrame(far)).toBeNull();
    // Text that happens to arrive as binary (a JSON call) is not a frame either.
    expect(decodeChunkFrame(Buffer.from(JSON.stringify({ id: 1, method: 'mutation', params: { path: 'agent.remoteResult' } })))).toBeNull();
  });

  it('will not build a frame it would refuse', () => {
    expect(() => allocChunkFrame('not-a-uuid', 0, 1)).toThrow(RangeError);
    expect(() => allocChunkFrame(randomUUID(), -1, 1)).toThrow(RangeError);
    expect(() => allocChunkFrame(randomUUID(), 0, FILE_CHUNK_BYTES + 1)).toThrow(RangeError);
  });
});
