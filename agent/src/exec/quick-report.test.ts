import { describe, expect, it } from 'vitest';
import { MAX_CHUNKS_PER_BATCH, type Chunk } from './chunk-batcher.ts';
import { holdQuickReports } from './quick-report.ts';

const chunk = (seq: number): Chunk => ({ seq, stream: 'stdout', data: `line ${seq}\n` });

/** What reached the server, in order; each send takes a little while, as a real round trip does. */
function recorder() {
  const sent: string[] = [];
  const errors: unknown[] = [];
  const pause = () => new Promise((resolve) => setTimeout(resolve, 5));
  return {
    sent, errors,
    send: {
      started: async () => void (await pause(), sent.push('started')),
      output: async (chunks: Chunk[]) => void (await pause(), sent.push(`output ${chunks.map((c) => c.seq).join(',')}`)),
      onError: (error: unknown) => void errors.push(error),
    },
  };
}

describe('quick command reports', () => {
  it('sends nothing for a command that ends within the hold: its output goes with the result', async () => {
    const { sent, send } = recorder();
    const quick = holdQuickReports(send, 1_000);
    await quick.started();
    await quick.output([chunk(0), chunk(1)]);
    await quick.output([chunk(2)]);
    expect(await quick.finish()).toEqual([chunk(0), chunk(1), chunk(2)]);
    expect(sent).toEqual([]);
  });

  it('streams a command still running after the hold: started, then what was held, then the rest, in order', async () => {
    const { sent, send, errors } = recorder();
    const quick = holdQuickReports(send, 30);
    await quick.started();
    await quick.output([chunk(0)]);
    await new Promise((resolve) => setTimeout(resolve, 40));
    // Sent while the held reports may still be on their way: it queues behind them.
    await quick.output([chunk(1)]);
    expect(await quick.finish()).toBeNull();
    expect(sent).toEqual(['started', 'output 0', 'output 1']);
    expect(errors).toEqual([]);
  });

  it('waits at the end for held reports still being sent, so the result comes after them', async () => {
    const { sent, send } = recorder();
    const quick = holdQuickReports(send, 10);
    await quick.started();
    await quick.output([chunk(0)]);
    await new Promise((resolve) => setTimeout(resolve, 12));
    // The hold is over and its sends are under way: finish resolves only once they arrived.
    expect(await quick.finish()).toBeNull();
    expect(sent).toEqual(['started', 'output 0']);
  });

  it('streams at once when the output outgrows one batch, however early', async () => {
    const { sent, send } = recorder();
    const quick = holdQuickReports(send, 60_000);
    await quick.started();
    const first = Array.from({ length: MAX_CHUNKS_PER_BATCH }, (_, i) => chunk(i));
    await quick.output(first);
    expect(sent).toEqual([]);
    await quick.output([chunk(MAX_CHUNKS_PER_BATCH)]);
    expect(await quick.finish()).toBeNull();
    expect(sent).toEqual(['started', `output ${first.map((c) => c.seq).join(',')}`, `output ${MAX_CHUNKS_PER_BATCH}`]);
  });

  it('tells of a held report the server refused when the hold ends, and still sends what follows', async () => {
    const { sent, send, errors } = recorder();
    const refusal = new Error('refused');
    const quick = holdQuickReports({ ...send, started: () => Promise.reject(refusal) }, 10);
    await quick.started();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await quick.output([chunk(0)]);
    expect(await quick.finish()).toBeNull();
    expect(errors).toEqual([refusal]);
    expect(sent).toEqual(['output 0']);
  });
});
