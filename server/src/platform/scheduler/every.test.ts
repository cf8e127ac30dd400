import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { every } from './every.ts';
import type { Logger } from '../obs/logger.ts';

const log = { warn: vi.fn() } as unknown as Logger;

describe('every', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('first runs at its phase, then every interval after it', async () => {
    const runs: number[] = [];
    const periodic = every(1_000, 'phased', log, async () => void runs.push(Date.now()), 300);
    const start = Date.now();
    await vi.advanceTimersByTimeAsync(2_500);
    expect(runs.map((at) => at - start)).toEqual([300, 1_300, 2_300]);
    await periodic.stop();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(runs).toHaveLength(3);
  });

  it('without a phase runs at each interval, and never twice at once', async () => {
    let running = 0;
    let most = 0;
    let runs = 0;
    const periodic = every(100, 'slow', log, async () => {
      runs++;
      most = Math.max(most, ++running);
      await new Promise((resolve) => setTimeout(resolve, 250));
      running--;
    });
    await vi.advanceTimersByTimeAsync(99);
    expect(runs).toBe(0);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(most).toBe(1);
    expect(runs).toBeGreaterThanOrEqual(3);
    // Stopping waits for the run in progress.
    const stopped = periodic.stop();
    await vi.advanceTimersByTimeAsync(300);
    await stopped;
    expect(running).toBe(0);
  });

  it('stops before its first run when stopped during the phase', async () => {
    const task = vi.fn(async () => undefined);
    const periodic = every(1_000, 'never', log, task, 500);
    await vi.advanceTimersByTimeAsync(400);
    await periodic.stop();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(task).not.toHaveBeenCalled();
  });
});
