import { describe, expect, it } from 'vitest';
import { createProcessLeases } from './process-leases.ts';

describe('process leases', () => {
  it('lets one owner hold a job until it releases it or the lease runs out', async () => {
    let nowMs = 1_000;
    const leases = createProcessLeases(() => nowMs);
    expect(await leases.acquire('sweep', 'a', 5_000)).toBe(true);
    expect(await leases.acquire('sweep', 'b', 5_000)).toBe(false);
    expect(await leases.acquire('sweep', 'a', 5_000)).toBe(true);
    expect(await leases.acquire('other', 'b', 5_000)).toBe(true);
    await leases.release('sweep', 'b');
    expect(await leases.acquire('sweep', 'b', 5_000)).toBe(false);
    await leases.release('sweep', 'a');
    expect(await leases.acquire('sweep', 'b', 5_000)).toBe(true);
    nowMs += 5_000;
    expect(await leases.acquire('sweep', 'a', 5_000)).toBe(true);
  });
});
