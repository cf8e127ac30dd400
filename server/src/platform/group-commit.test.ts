import { describe, expect, it } from 'vitest';
import { createGroupCommit } from './group-commit.ts';

const byName = (item: { name: string }) => item.name;

describe('group commit', () => {
  it('writes items that arrive within the window as one group and answers each caller with its own value', async () => {
    const groups: string[][] = [];
    const writer = createGroupCommit<{ name: string }, number>(async (items) => {
      groups.push(items.map(byName));
      return items.map((item) => item.name.length);
    }, { key: byName, windowMs: 20, maxItems: 100 });
    expect(await Promise.all(['a', 'bb', 'ccc'].map((name) => writer.add({ name })))).toEqual([1, 2, 3]);
    expect(groups).toEqual([['a', 'bb', 'ccc']]);
  });

  it('writes what arrived during a write as the next group, at once', async () => {
    const groups: string[][] = [];
    let release!: () => void;
    const firstHeld = new Promise<void>((resolve) => (release = resolve));
    const writer = createGroupCommit<{ name: string }, string>(async (items) => {
      groups.push(items.map(byName));
      if (groups.length === 1) await firstHeld;
      return items.map(byName);
    }, { key: byName, windowMs: 0, maxItems: 100 });
    const first = writer.add({ name: 'a' });
    await new Promise((resolve) => setTimeout(resolve, 10));
    // The first group is being written: these wait for it, then go together.
    const later = Promise.all([writer.add({ name: 'b' }), writer.add({ name: 'c' })]);
    expect(groups).toEqual([['a']]);
    release();
    expect(await first).toBe('a');
    expect(await later).toEqual(['b', 'c']);
    expect(groups).toEqual([['a'], ['b', 'c']]);
  });

  it('never puts two items of one key in a group, and cuts groups at maxItems', async () => {
    const groups: string[][] = [];
    const writer = createGroupCommit<{ name: string; n: number }, number>(async (items) => {
      groups.push(items.map((item) => `${item.name}${item.n}`));
      return items.map((item) => item.n);
    }, { key: byName, windowMs: 5, maxItems: 2 });
    const answers = await Promise.all([
      writer.add({ name: 'x', n: 1 }), writer.add({ name: 'x', n: 2 }), writer.add({ name: 'y', n: 3 }), writer.add({ name: 'z', n: 4 }),
    ]);
    expect(answers).toEqual([1, 2, 3, 4]);
    expect(groups.flat().sort()).toEqual(['x1', 'x2', 'y3', 'z4']);
    for (const group of groups) {
      expect(group.length).toBeLessThanOrEqual(2);
      expect(new Set(group.map((item) => item[0])).size).toBe(group.length);
    }
    // The same key's items keep their order.
    expect(groups.findIndex((group) => group.includes('x1'))).toBeLessThan(groups.findIndex((group) => group.includes('x2')));
  });

  it('writes a failed group again item by item, so only the refused item fails', async () => {
    const groups: string[][] = [];
    const writer = createGroupCommit<{ name: string }, string>(async (items) => {
      groups.push(items.map(byName));
      if (items.some((item) => item.name === 'bad')) throw new Error('refused');
      return items.map(byName);
    }, { key: byName, windowMs: 5, maxItems: 100 });
    const outcomes = await Promise.allSettled(['a', 'bad', 'c'].map((name) => writer.add({ name })));
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(groups).toEqual([['a', 'bad', 'c'], ['a'], ['bad'], ['c']]);
    // The next item starts a group of its own afresh.
    expect(await writer.add({ name: 'd' })).toBe('d');
  });
});
