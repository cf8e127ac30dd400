import { describe, expect, it } from 'vitest';
import { createMetrics } from './metrics.ts';
import { timed } from './query-observer.ts';
import { createWarnLimiter } from './warn-limiter.ts';

describe('warn limiter', () => {
  it('lets one warning of a kind through per quiet period and carries the count held back', () => {
    let nowMs = 0;
    const limit = createWarnLimiter(10_000, () => nowMs);
    expect(limit('a')).toEqual({ repeatedSinceLast: 0 });
    expect(limit('a')).toBeNull();
    expect(limit('b')).toEqual({ repeatedSinceLast: 0 });
    expect(limit('a')).toBeNull();
    nowMs = 10_000;
    expect(limit('a')).toEqual({ repeatedSinceLast: 2 });
    expect(limit('a')).toBeNull();
  });

  it('logs a storm of the same slow statement once, while the metric counts every one', async () => {
    const metrics = createMetrics();
    const lines: Record<string, unknown>[] = [];
    const observer = { metrics, slowQueryMs: -1, log: { warn: (fields: Record<string, unknown>) => void lines.push(fields) }, warnLimiter: createWarnLimiter() } as Parameters<typeof timed>[0];
    for (let i = 0; i < 50; i++) await timed(observer, 'relational', 'select', () => 'select 1', async () => 1);
    await timed(observer, 'relational', 'select', () => 'select 2', async () => 2);
    expect(lines.map((line) => line.query)).toEqual(['select 1', 'select 2']);
    const text = await metrics.registry.metrics();
    expect(text).toContain('ninjait_store_slow_queries_total{store="relational"} 51');
  });
});
