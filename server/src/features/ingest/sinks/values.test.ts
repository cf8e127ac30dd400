import { describe, expect, it } from 'vitest';
import { fitText, splitStorable, storableAmount, storableCount, storablePercent, storableTime, UINT64_CEILING } from './values.ts';
import type { IngestRow } from './types.ts';

const row = (collectedAt: Date) => ({ id: 1, collectedAt } as IngestRow);

describe('defensive conversions', () => {
  it('keeps times every sink stores and names the rest', () => {
    expect(storableTime(new Date(8.7e15))).toBeNull(); // Invalid Date
    expect(storableTime(new Date(Date.UTC(2100, 0, 1)))).toBeNull();
    expect(storableTime(new Date(-1))).toBeNull();
    expect(storableTime(new Date(0))).toEqual(new Date(0));
    const { storable, rejected } = splitStorable([row(new Date(8.7e15)), row(new Date(1_800_000_000_000))]);
    expect(storable).toHaveLength(1);
    expect(rejected[0]!.reason).toBe('its collection time (not a valid date) is outside what the stores hold (1970 to 2099)');
  });

  it('turns junk numbers into storable ones', () => {
    expect([Number.NaN, Number.POSITIVE_INFINITY, -5, 'x', null].map(storableCount)).toEqual([0, 0, 0, 0, 0]);
    expect(storableCount(1e300)).toBe(UINT64_CEILING);
    expect(JSON.stringify(UINT64_CEILING)).toBe('10000000000000000000');
    expect(storableCount(2.6)).toBe(3);
    expect(storableAmount(2.5)).toBe(2.5);
    expect([1e308, -1, Number.NaN, 42].map(storablePercent)).toEqual([100, 0, 0, 42]);
  });

  it('cuts text to a column by characters, never through a surrogate pair, without NUL', () => {
    expect(fitText('abc', 5)).toBe('abc');
    expect(fitText('a\u0000b', 5)).toBe('a\uFFFDb');
    expect(fitText('😀😀😀', 2)).toBe('😀😀');
    expect(fitText('x'.repeat(256), 255)).toHaveLength(255);
  });
});
