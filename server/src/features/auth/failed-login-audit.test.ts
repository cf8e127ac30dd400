import { describe, expect, it } from 'vitest';
import { createMemoryCache } from '../../stores/cache/index.ts';
import { ALL_IN_FULL, PER_ADDRESS_IN_FULL, sampleFailedLogin } from './failed-login-audit.ts';

describe('failed login audit sampling', () => {
  it('writes an address\'s first failures of a minute, then only at powers of two', async () => {
    const cache = createMemoryCache();
    const written: number[] = [];
    for (let i = 0; i < 1_000; i++) {
      const count = await sampleFailedLogin(cache, '203.0.113.1');
      if (count !== null) written.push(count);
    }
    expect(written).toEqual([...Array.from({ length: PER_ADDRESS_IN_FULL }, (_, i) => i + 1), 32, 64, 128, 256, 512]);
  });

  it('writes at most ALL_IN_FULL a minute across addresses, then only at powers of two of the total', async () => {
    const cache = createMemoryCache();
    let written = 0;
    // One failure from each of 5,000 addresses: each would be written on its own.
    for (let i = 0; i < 5_000; i++) if ((await sampleFailedLogin(cache, `10.0.${i >> 8}.${i & 0xff}`)) !== null) written++;
    // The first ALL_IN_FULL, then the 1,024th, 2,048th and 4,096th failure of the minute.
    expect(written).toBe(ALL_IN_FULL + 3);
  });

  it('starts over when the minute has passed', async () => {
    let now = 1_750_000_000_000;
    const cache = createMemoryCache(() => now);
    for (let i = 0; i < 100; i++) await sampleFailedLogin(cache, '203.0.113.2');
    expect(await sampleFailedLogin(cache, '203.0.113.2')).toBeNull();
    now += 61_000;
    expect(await sampleFailedLogin(cache, '203.0.113.2')).toBe(1);
  });
});
