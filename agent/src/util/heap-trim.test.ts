import { describe, expect, it } from 'vitest';
import { createHeapTrimmer } from './heap-trim.ts';

describe('createHeapTrimmer', () => {
  it('collects once the heap grew past the slack over the last live size', () => {
    let heap = 12;
    let gcs = 0;
    const trimmer = createHeapTrimmer({ gc: () => { gcs++; heap = 9; }, heapUsedBytes: () => heap, slackBytes: 2 });
    trimmer.afterWork(); // start-up garbage
    expect(gcs).toBe(1);
    heap = 10.5;
    trimmer.afterWork();
    expect(gcs).toBe(1);
    heap = 11;
    trimmer.afterWork();
    expect(gcs).toBe(2);
    expect(trimmer.trims).toBe(2);
  });

  it('does nothing without a gc function (no --expose-gc)', () => {
    const trimmer = createHeapTrimmer({ gc: undefined, heapUsedBytes: () => 1e9 });
    trimmer.afterWork();
    expect(trimmer.trims).toBe(0);
  });
});
