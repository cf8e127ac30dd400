import { describe, expect, it } from 'vitest';
import { metricSampleSchema } from '@ninjait/shared';
import { createProcParts } from './linux/index.ts';
import type { PartFallback } from './parts.ts';
import { createSampler } from './sample.ts';

describe('createSampler', () => {
  it('falls back to systeminformation part by part when /proc cannot be read, and says so once per part', async () => {
    const fallbacks: PartFallback[] = [];
    const sample = createSampler({ primary: createProcParts({ root: '/nonexistent-proc-root' }), onFallback: (f) => fallbacks.push(f) });
    expect(metricSampleSchema.safeParse(await sample()).success).toBe(true);
    const second = await sample();
    expect(second.memory.totalBytes).toBeGreaterThan(0);
    expect(second.cpu.perCorePercent.length).toBeGreaterThan(0);
    expect(fallbacks.map((f) => f.part).sort()).toEqual(['cpu', 'disks', 'memory', 'network']);
    expect(String(fallbacks[0]?.error)).toMatch(/ENOENT/);
  }, 20_000);

  it('reads /proc and nothing else on Linux: no part falls back', async () => {
    const fallbacks: PartFallback[] = [];
    const sample = await createSampler({ onFallback: (f) => fallbacks.push(f) })();
    expect(metricSampleSchema.safeParse(sample).success).toBe(true);
    expect(fallbacks).toEqual([]);
  });
});
