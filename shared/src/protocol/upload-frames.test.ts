import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FILE_CHUNK_BYTES, MAX_PATH_CHARS, MAX_TRANSFER_BYTES } from '../schemas/remote.ts';
import { allocChunkFrame, decodeChunkFrame } from './chunk-frames.ts';
import { decodeUploadFrame, encodeUploadFrame } from './upload-frames.ts';

describe('upload chunk frames', () => {
  const ids = () => ({ requestId: randomUUID(), transferId: randomUUID() });

  it('carries both ids, the path, the offset and the bytes given in pieces, and decodes without copying them', () => {
    const head = { ...ids(), path: 'C:\\Users\\zoë\\report 📄.pdf', offset: 5 * 1024 ** 3 + 7 };
    const data = randomBytes(FILE_CHUNK_BYTES);
    const frame = encodeUploadFrame({ ...head, data: [data.subarray(0, 1000), data.subarray(1000)] });
    const decoded = decodeUploadFrame(frame)!;
    expect({ ...decoded, data: undefined }).toEqual({ ...head, data: undefined });
    expect(decoded.data.equals(data)).toBe(true);
    expect(decoded.data.buffer).toBe(frame.buffer);
    // Neither kind of frame passes for the other.
    expect(decodeChunkFrame(frame)).toBeNull();
    expect(decodeUploadFrame(allocChunkFrame(randomUUID(), 0, 16))).toBeNull();
  });

  it('refuses frames that are not well formed: short, another version, a path running past the end, an offset past the limit, too much data', () => {
    const good = encodeUploadFrame({ ...ids(), path: '/tmp/x', offset: 0, data: [Buffer.from('abc')] });
    expect(decodeUploadFrame(good.subarray(0, 43))).toBeNull();
    const other = Buffer.from(good);
    other[0] = 9;
    expect(decodeUploadFrame(other)).toBeNull();
    const longPath = Buffer.from(good);
    longPath.writeUInt16BE(good.length, 42);
    expect(decodeUploadFrame(longPath)).toBeNull();
    const noPath = Buffer.from(good);
    noPath.writeUInt16BE(0, 42);
    expect(decodeUploadFrame(noPath)).toBeNull();
    const far = Buffer.from(good);
    far.writeBigUInt64BE(BigInt(MAX_TRANSFER_BYTES) + 1n, 18);
    expect(decodeUploadFrame(far)).toBeNull();
    const fat = Buffer.concat([good, Buffer.alloc(FILE_CHUNK_BYTES)]);
    expect(decodeUploadFrame(fat)).toBeNull();
  });

  it('will not build a frame it would refuse', () => {
    const data = [Buffer.alloc(1)];
    expect(() => encodeUploadFrame({ ...ids(), requestId: 'nope', path: '/x', offset: 0, data })).toThrow(RangeError);
    expect(() => encodeUploadFrame({ ...ids(), path: '', offset: 0, data })).toThrow(RangeError);
    expect(() => encodeUploadFrame({ ...ids(), path: 'x'.repeat(MAX_PATH_CHARS + 1), offset: 0, data })).toThrow(RangeError);
    expect(() => encodeUploadFrame({ ...ids(), path: '/x', offset: -1, data })).toThrow(RangeError);
    expect(() => encodeUploadFrame({ ...ids(), path: '/x', offset: 0, data: [Buffer.alloc(FILE_CHUNK_BYTES), Buffer.alloc(1)] })).toThrow(RangeError);
    // The longest path in the widest characters still fits.
    const widest = '😀'.repeat(MAX_PATH_CHARS / 2);
    expect(decodeUploadFrame(encodeUploadFrame({ ...ids(), path: widest, offset: 0, data }))?.path).toBe(widest);
  });
});
