import { describe, expect, it } from 'vitest';
import { isDroppedConnection, withResume, withRetries } from './transfer-resume.ts';

/** A refusal as tRPC's client reports it. */
const refusal = (code: string) => Object.assign(new Error(code), { data: { code } });
const fast = { retryDelayMs: 1 };

describe('resuming a transfer', () => {
  it('tells a dropped connection from a refusal', () => {
    expect(isDroppedConnection(new TypeError('Failed to fetch'))).toBe(true);
    expect(isDroppedConnection(refusal('SERVICE_UNAVAILABLE'))).toBe(true);
    expect(isDroppedConnection(refusal('CONFLICT'))).toBe(false);
    expect(isDroppedConnection(refusal('FORBIDDEN'))).toBe(false);
  });

  it('continues from where the receiver is after a dropped connection or a CONFLICT from a chunk', async () => {
    let have = 0;
    const starts: number[] = [];
    const failures = [new TypeError('socket hang up'), refusal('CONFLICT')];
    await withResume(fast, async () => have, async (from) => {
      starts.push(from);
      have = from + 3;
      const failure = failures.shift();
      if (failure) throw failure;
      have = 10;
    });
    expect(starts).toEqual([0, 3, 6]);
    expect(have).toBe(10);
  });

  it('throws a refusal of the start at once, CONFLICT included (the target exists)', async () => {
    let asked = 0;
    await expect(withResume(fast, async () => {
      asked += 1;
      throw refusal('CONFLICT');
    }, async () => undefined)).rejects.toThrow('CONFLICT');
    expect(asked).toBe(1);
  });

  it('gives up after its attempts, with the last failure', async () => {
    let tries = 0;
    await expect(withRetries({ attempts: 3, retryDelayMs: 1 }, async () => {
      tries += 1;
      throw new Error(`drop ${tries}`);
    })).rejects.toThrow('drop 3');
    expect(tries).toBe(3);
  });

  it('stops at once when cancelled, without another try', async () => {
    const cancel = new AbortController();
    let pumps = 0;
    await expect(withResume({ retryDelayMs: 1, signal: cancel.signal }, async () => 0, async () => {
      pumps += 1;
      cancel.abort(new Error('cancelled'));
      throw new Error('aborted mid-way');
    })).rejects.toThrow();
    expect(pumps).toBe(1);
  });
});
