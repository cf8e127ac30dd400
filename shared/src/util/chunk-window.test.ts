import { describe, expect, it } from 'vitest';
import { pumpChunks } from './chunk-window.ts';

describe('pumpChunks', () => {
  it('keeps up to a window in flight and receives in offset order, whatever order the answers come in', async () => {
    let inFlight = 0;
    let most = 0;
    const received: number[] = [];
    await pumpChunks({
      from: 0, size: 105, chunkBytes: 10, window: 4,
      async send(offset) {
        most = Math.max(most, ++inFlight);
        // Later chunks answer first.
        await new Promise((done) => setTimeout(done, 40 - (offset % 40)));
        inFlight -= 1;
        return offset;
      },
      receive: (value, offset) => void received.push(value, offset),
    });
    expect(most).toBe(4);
    expect(received.filter((_, i) => i % 2 === 0)).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
  });

  it('throws the first failure at once and aborts the chunks still in flight, which would hold their connections', async () => {
    const signals = new Map<number, AbortSignal>();
    const started = performance.now();
    const pump = pumpChunks({
      from: 0, size: 80, chunkBytes: 10, window: 4,
      send(offset, _length, signal) {
        signals.set(offset, signal);
        if (offset === 10) return Promise.reject(new Error('connection reset'));
        // Parked by the receiver, as chunks behind a lost one are: they answer only when aborted.
        return new Promise((resolve, reject) => {
          if (offset === 0) setTimeout(() => resolve(offset), 5);
          signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
        });
      },
      receive: () => undefined,
    });
    await expect(pump).rejects.toThrow('connection reset');
    expect(performance.now() - started).toBeLessThan(1_000);
    // The window was 0, 10, 20, 30; after 0 was answered, 40 went out too. None after the failure.
    expect([...signals.keys()].sort((a, b) => a - b)).toEqual([0, 10, 20, 30, 40]);
    for (const offset of [20, 30, 40]) expect(signals.get(offset)!.aborted).toBe(true);
  });
});
