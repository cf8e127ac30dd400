import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { eventLoopDelayHistogram } from './event-loop-delay.ts';

const bucket = (text: string, le: string) => {
  const prefix = `ninjait_event_loop_delay_seconds_bucket{le="${le}"} `;
  const line = text.split('\n').find((l) => l.startsWith(prefix));
  return line === undefined ? NaN : Number(line.slice(prefix.length));
};
const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('event-loop delay histogram', () => {
  it('counts a blocked stretch in the tail buckets and keeps counting across scrapes', async () => {
    const registry = new Registry();
    eventLoopDelayHistogram(registry);
    await tick(100);
    const quiet = await registry.metrics();
    expect(bucket(quiet, '+Inf')).toBeGreaterThan(0);
    // An idle loop is late by about nothing, not by the timer's own 10 ms (what perf_hooks records).
    expect(bucket(quiet, '0.01')).toBeGreaterThanOrEqual(bucket(quiet, '+Inf') * 0.5);
    const blockUntil = performance.now() + 300;
    while (performance.now() < blockUntil) { /* a synchronous stall, as a big loop over every agent would be */ }
    await tick(50);
    const stalled = await registry.metrics();
    // The stall's sample waited ~300 ms: above 0.25 s, not above 0.5 s (the 10 ms timer fires right after).
    expect(bucket(stalled, '+Inf') - bucket(stalled, '0.25')).toBeGreaterThanOrEqual(1);
    expect(bucket(stalled, '0.25') - bucket(quiet, '0.25')).toBeGreaterThan(0);
    // Cumulative: a later scrape never loses what an earlier one counted.
    expect(bucket(stalled, '+Inf')).toBeGreaterThan(bucket(quiet, '+Inf'));
  });
});
