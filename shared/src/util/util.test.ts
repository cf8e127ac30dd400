import { describe, expect, it } from 'vitest';
import { backoffMs } from './backoff.ts';
import { TimeoutError, waitAtMost, withTimeout } from './deadline.ts';

describe('backoffMs', () => {
  it('doubles from the base up to the ceiling, exactly without jitter', () => {
    const plain = { baseMs: 100, maxMs: 1_000, jitter: 'none' } as const;
    expect([0, 1, 2, 3, 4, 5].map((attempt) => backoffMs(attempt, plain))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    expect(backoffMs(1e9, plain)).toBe(1_000);
    expect(backoffMs(-3, plain)).toBe(100);
  });

  it('keeps half the delay fixed and jitters the other half by default', () => {
    expect(backoffMs(2, { baseMs: 100, maxMs: 1_000, random: () => 0 })).toBe(200);
    expect(backoffMs(2, { baseMs: 100, maxMs: 1_000, random: () => 1 })).toBe(400);
    expect(backoffMs(60, { baseMs: 100, maxMs: 1_000, random: () => 0.5 })).toBe(750);
  });
});

describe('deadlines', () => {
  it('withTimeout passes the value through, or rejects with what timed out', async () => {
    await expect(withTimeout(Promise.resolve(7), 1_000, 'x')).resolves.toBe(7);
    const never = new Promise<never>(() => undefined);
    const error = await withTimeout(never, 5, 'the probe').catch((err: unknown) => err);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as Error).message).toBe('the probe timed out after 5 ms');
  });

  it('waitAtMost returns when the work ends or the time is up, and passes a rejection on', async () => {
    await expect(waitAtMost(new Promise<never>(() => undefined), 5)).resolves.toBeUndefined();
    await expect(waitAtMost(Promise.resolve('done'), 60_000)).resolves.toBeUndefined();
    await expect(waitAtMost(Promise.reject(new Error('boom')), 60_000)).rejects.toThrow('boom');
  });
});
