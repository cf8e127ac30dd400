import { describe, expect, it } from 'vitest';
import { createBatchedReads } from './batched-reads.ts';

const itself = (key: string) => key;

describe('batched reads', () => {
  it('reads items asked for within the window as one batch, each key once, and answers every caller', async () => {
    const batches: string[][] = [];
    const reads = createBatchedReads<string, number | undefined>(async (keys) => {
      batches.push([...keys]);
      return keys.map((key) => (key === 'missing' ? undefined : key.length));
    }, { key: itself, windowMs: 20, maxKeys: 100 });
    const answers = await Promise.all(['a', 'bb', 'a', 'missing', 'ccc'].map((key) => reads.read(key)));
    expect(answers).toEqual([1, 2, 1, undefined, 3]);
    expect(batches).toEqual([['a', 'bb', 'missing', 'ccc']]);
    // A later read starts a batch of its own.
    expect(await reads.read('dddd')).toBe(4);
    expect(batches).toHaveLength(2);
  });

  it('reads a full batch at once, without waiting out the window', async () => {
    const batches: number[] = [];
    const reads = createBatchedReads<number, number>(async (keys) => {
      batches.push(keys.length);
      return keys.map((key) => key * 2);
    }, { key: String, windowMs: 60_000, maxKeys: 3 });
    expect(await Promise.all([1, 2, 3].map((key) => reads.read(key)))).toEqual([2, 4, 6]);
    expect(batches).toEqual([3]);
  });

  it('fails every caller of a batch whose read fails, and reads the next batch afresh', async () => {
    let fail = true;
    const reads = createBatchedReads<string, string>(async (keys) => {
      if (fail) throw new Error('store down');
      return keys;
    }, { key: itself, windowMs: 5, maxKeys: 10 });
    const outcomes = await Promise.allSettled([reads.read('x'), reads.read('y')]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect(await reads.read('x')).toBe('x');
  });
});
