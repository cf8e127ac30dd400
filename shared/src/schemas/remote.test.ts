import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FILE_CHUNK_BYTES, isBase64, remoteOps } from './remote.ts';

describe('base64 chunks', () => {
  it('accepts what Buffer encodes, with every padding length', () => {
    for (const length of [0, 1, 2, 3, 4, 5, FILE_CHUNK_BYTES]) expect(isBase64(randomBytes(length).toString('base64'))).toBe(true);
  });

  it('refuses other alphabets, padding in the middle or too long, and whitespace', () => {
    for (const bad of ['ab-_', 'ab=c', 'a===', 'YQ==\n', 'YQ== ', '=abc', 'Y\u00e9Q=']) expect(isBase64(bad), bad).toBe(false);
  });

  it('bounds an upload chunk by what one chunk encodes to', () => {
    const op = { kind: 'fs.uploadChunk', transferId: '6f2a1f0e-8a4f-4c3e-9a55-0b1f7c1d2e3f', path: '/tmp/x', offset: 0 } as const;
    expect(remoteOps['fs.uploadChunk'].safeParse({ ...op, data: randomBytes(FILE_CHUNK_BYTES).toString('base64') }).success).toBe(true);
    expect(remoteOps['fs.uploadChunk'].safeParse({ ...op, data: randomBytes(FILE_CHUNK_BYTES + 3).toString('base64') }).success).toBe(false);
    expect(remoteOps['fs.uploadChunk'].safeParse({ ...op, data: 'not base64!' }).success).toBe(false);
  });
});
