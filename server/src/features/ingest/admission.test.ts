import { describe, expect, it } from 'vitest';
import { MAX_CLOCK_SKEW_MS, MAX_RECORD_AGE_MS } from '@ninjait/shared';
import { collectionTimeProblem, OLDEST_ACCEPTED_AGE_MS } from './admission.ts';

const NOW = 1_800_000_000_000;

describe('collection time window', () => {
  it('accepts a month back (plus the skew an agent may have) and a few minutes ahead', () => {
    expect(collectionTimeProblem(NOW, NOW)).toBeNull();
    expect(collectionTimeProblem(NOW - MAX_RECORD_AGE_MS, NOW)).toBeNull();
    expect(collectionTimeProblem(NOW - OLDEST_ACCEPTED_AGE_MS, NOW)).toBeNull();
    expect(collectionTimeProblem(NOW + MAX_CLOCK_SKEW_MS, NOW)).toBeNull();
  });

  it('says what is wrong in words an admin can act on', () => {
    expect(collectionTimeProblem(NOW - OLDEST_ACCEPTED_AGE_MS - 1, NOW)).toBe(
      "collected 30 days before it arrived; records older than 30 days are not stored (the device's clock is behind, or it was offline that long)");
    expect(collectionTimeProblem(1, NOW)).toMatch(/^collected 57 years before it arrived/);
    expect(collectionTimeProblem(NOW + MAX_CLOCK_SKEW_MS + 1, NOW)).toBe(
      "collected 5 min ahead of the server's clock; at most 5 min is accepted (the device's clock is ahead: check its time settings)");
    expect(collectionTimeProblem(NOW + 86_400_000, NOW)).toMatch(/^collected 1 day ahead/);
  });
});
