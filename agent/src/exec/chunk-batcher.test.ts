import { describe, expect, it } from 'vitest';
import { createChunkBatcher, type Chunk } from './chunk-batcher.ts';

const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

function recorder(intervalMs: number) {
  const sent: Chunk[][] = [];
  const order: string[] = [];
  const batcher = createChunkBatcher({
    intervalMs,
    send: async (chunks) => {
      sent.push(chunks);
      order.push(`output ${chunks.map((c) => c.seq).join(',')}`);
    },
  });
  return { batcher, sent, order };
}

describe('chunk batcher', () => {
  it('sends the first output at once, even right after a report went through the chain', async () => {
    const { batcher, sent, order } = recorder(60_000);
    await batcher.then(async () => void order.push('started'));
    batcher.push('stdout', 'hi\n');
    await settle();
    expect(sent).toEqual([[{ seq: 0, stream: 'stdout', data: 'hi\n' }]]);
    expect(order).toEqual(['started', 'output 0']);
  });

  it('holds later output for the interval and sends it as one batch, numbered without gaps', async () => {
    const { batcher, sent } = recorder(60_000);
    batcher.push('stdout', 'a');
    batcher.push('stderr', 'b');
    batcher.push('stderr', 'c');
    await settle();
    expect(sent).toHaveLength(1);
    await batcher.drain();
    expect(sent).toEqual([[{ seq: 0, stream: 'stdout', data: 'a' }], [{ seq: 1, stream: 'stderr', data: 'bc' }]]);
  });

  it('keeps reports behind the output pushed before them', async () => {
    const { batcher, order } = recorder(60_000);
    batcher.push('stdout', 'a');
    batcher.push('stdout', 'b');
    await batcher.then(async () => void order.push('result'));
    expect(order).toEqual(['output 0', 'output 1', 'result']);
  });
});
