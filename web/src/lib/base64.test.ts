import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fromBase64, toBase64 } from './base64.ts';

describe('transfer base64', () => {
  it('round-trips bytes of every padding length and past one 32 KiB stride, as Buffer encodes them', () => {
    for (const length of [0, 1, 2, 3, 4, 70_000]) {
      const bytes = new Uint8Array(randomBytes(length));
      const text = toBase64(bytes);
      expect(text).toBe(Buffer.from(bytes).toString('base64'));
      expect(fromBase64(text)).toEqual(bytes);
    }
  });

  it('refuses what is not base64', () => {
    expect(() => fromBase64('not base64!')).toThrow();
  });
});
