import { describe, expect, it } from 'vitest';
import type { OutboxRecord } from '@ninjait/shared';
import type { NewRecord } from '../outbox/types.ts';
import { fakeInventory, fakeSample } from '../testing/fixtures.ts';
import { memoryLogger } from '../testing/log.ts';
import { RecentErrors } from '../util/recent-errors.ts';
import { createCollector } from './collector.ts';

function memoryOutbox() {
  const records: NewRecord[] = [];
  return { records, append: (r: NewRecord) => ({ seq: records.push(r), dropped: 0 }) };
}

describe('collector', () => {
  it('collects at once, then every interval, with inventory at start', async () => {
    const outbox = memoryOutbox();
    let appended = 0;
    const c = createCollector({
      outbox, intervalMs: 40, log: memoryLogger().log, errors: new RecentErrors(),
      sample: async () => fakeSample(), inventory: async () => fakeInventory(), onAppend: () => appended++,
    });
    c.start();
    await new Promise((r) => setTimeout(r, 10));
    expect(outbox.records.map((r) => r.kind)).toEqual(['sample', 'inventory']);
    await new Promise((r) => setTimeout(r, 150));
    await c.stop();
    const samples = outbox.records.filter((r) => r.kind === 'sample').length;
    expect(samples).toBeGreaterThanOrEqual(3);
    expect(samples).toBeLessThanOrEqual(6);
    expect(outbox.records.filter((r) => r.kind === 'inventory').length).toBe(1);
    expect(appended).toBe(outbox.records.length);
    const after = outbox.records.length;
    await new Promise((r) => setTimeout(r, 100));
    expect(outbox.records.length).toBe(after); // stopped means stopped
  });

  it('counts and reports a failing probe without stopping', async () => {
    const outbox = memoryOutbox();
    const errors = new RecentErrors();
    let calls = 0;
    const c = createCollector({
      outbox, intervalMs: 30, log: memoryLogger().log, errors,
      sample: async () => {
        if (++calls === 1) throw new Error('probe exploded');
        return fakeSample();
      },
      inventory: async () => { throw new Error('no inventory'); },
    });
    c.start();
    await new Promise((r) => setTimeout(r, 100));
    await c.stop();
    expect(c.stats().failures).toBe(2);
    expect(c.stats().samples).toBeGreaterThanOrEqual(1);
    expect(errors.peek().map((e) => e.code)).toEqual(['collect.sample', 'collect.inventory']);
    expect(errors.peek()[0]?.message).toBe('probe exploded');
    expect(outbox.records.every((r: NewRecord | OutboxRecord) => r.kind === 'sample')).toBe(true);
  });
});
