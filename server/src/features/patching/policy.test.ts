import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, isApproved, nextWindow, patchPolicySchema } from './policy.ts';

const update = (over: Partial<{ name: string; classification: string; severity: string; firstSeenAt: Date }> = {}) => ({
  name: 'openssl', classification: 'security', severity: 'important', firstSeenAt: new Date('2026-01-01T00:00:00Z'), ...over,
});

describe('patch policy', () => {
  it('approves by classification, severity or name pattern once deferred long enough', () => {
    const policy = patchPolicySchema.parse({ approveClassifications: ['security'], deferralDays: 3 });
    expect(isApproved(update(), policy, new Set(), new Date('2026-01-02T00:00:00Z'))).toBe(false);
    expect(isApproved(update(), policy, new Set(), new Date('2026-01-04T00:00:00Z'))).toBe(true);
    expect(isApproved(update({ classification: 'other' }), policy, new Set(), new Date('2026-02-01T00:00:00Z'))).toBe(false);
    const byName = patchPolicySchema.parse({ approveNamePatterns: ['libssl*'] });
    expect(isApproved(update({ name: 'libssl3', classification: 'other' }), byName, new Set(), new Date())).toBe(true);
  });

  it('a person approves by name; exclusions win over everything', () => {
    expect(isApproved(update({ classification: 'other' }), DEFAULT_POLICY, new Set(['openssl']), new Date())).toBe(true);
    const excluded = patchPolicySchema.parse({ approveClassifications: ['security'], excludeNamePatterns: ['open*'] });
    expect(isApproved(update(), excluded, new Set(['openssl']), new Date())).toBe(false);
  });

  it('maintenance windows follow cron in the time zone', () => {
    const policy = { windowCron: '0 2 * * *', windowTz: 'Europe/Paris', windowDurationMin: 60 };
    // 00:30 UTC on a winter day is 01:30 in Paris: the next window opens at 02:00 Paris = 01:00 UTC.
    const before = nextWindow(policy, new Date('2026-01-10T00:30:00Z'));
    expect(before.start.toISOString()).toBe('2026-01-10T01:00:00.000Z');
    expect(before.end.toISOString()).toBe('2026-01-10T02:00:00.000Z');
    // Inside the window: it runs now, until the window closes.
    const inside = nextWindow(policy, new Date('2026-01-10T01:20:00Z'));
    expect(inside.start.toISOString()).toBe('2026-01-10T01:20:00.000Z');
    expect(inside.end.toISOString()).toBe('2026-01-10T02:00:00.000Z');
  });

  it('refuses a bad cron, time zone or pattern', () => {
    expect(patchPolicySchema.safeParse({ windowCron: 'every day' }).success).toBe(false);
    expect(patchPolicySchema.safeParse({ windowTz: 'Mars/Olympus' }).success).toBe(false);
    expect(patchPolicySchema.safeParse({ approveNamePatterns: ['a;b'] }).success).toBe(false);
  });
});
