import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PushInput, PushOutput } from '@ninjait/shared';
import { openOutbox } from '../outbox/outbox.ts';
import type { Outbox } from '../outbox/types.ts';
import { fakeRecord } from '../testing/fixtures.ts';
import { memoryLogger } from '../testing/log.ts';
import { tempDir } from '../testing/temp.ts';
import { RecentErrors } from '../util/recent-errors.ts';
import { createSender, type Sender } from './sender.ts';
import { LinkError, type AgentApi } from './types.ts';

/** An in-memory server: logs records by seq, acks the highest, can fail on demand. */
class FakeApi implements AgentApi {
  connected = true;
  logged = new Set<number>();
  calls: number[] = [];
  inFlight = 0;
  maxInFlight = 0;
  failWith: LinkError[] = [];
  ackCap = Infinity;
  refuseSeq: number | null = null;
  refusal = () => new LinkError('BAD_REQUEST', 'refused');
  async heartbeat() {
    return { serverTime: Date.now(), ackSeq: 0 };
  }
  async push(input: PushInput): Promise<PushOutput> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    this.calls.push(input.records.length);
    try {
      await new Promise((r) => setImmediate(r));
      const failure = this.failWith.shift();
      if (failure) throw failure;
      if (this.refuseSeq !== null && input.records.some((r) => r.seq === this.refuseSeq)) throw this.refusal();
      for (const r of input.records) if (r.seq <= this.ackCap) this.logged.add(r.seq);
      return { ackSeq: Math.max(0, ...this.logged) };
    } finally {
      this.inFlight--;
    }
  }
}

let tmp: ReturnType<typeof tempDir>;
let outbox: Outbox;
let api: FakeApi;
let abort: AbortController;
let errors: RecentErrors;
beforeEach(() => {
  tmp = tempDir();
  outbox = openOutbox({ file: join(tmp.dir, 'outbox.db'), bufferMaxMb: 256 });
  api = new FakeApi();
  abort = new AbortController();
  errors = new RecentErrors();
});
afterEach(() => {
  abort.abort();
  outbox.close();
  tmp.cleanup();
});

const start = (extra: Partial<Parameters<typeof createSender>[0]> = {}): { sender: Sender; done: Promise<void> } => {
  const sender = createSender({ outbox, api, log: memoryLogger().log, errors, retryBaseMs: 10, retryMaxMs: 50, ...extra });
  return { sender, done: sender.run(abort.signal) };
};
const until = async (cond: () => boolean, timeoutMs = 5_000) => {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('sender', () => {
  it('drains a 7-day backlog (20,160 samples) in a few pushes, one in flight at a time', async () => {
    const weekAgo = Date.now() - 7 * 24 * 3_600_000;
    outbox.appendMany(Array.from({ length: 20_160 }, (_, i) => fakeRecord(weekAgo + i * 30_000)));
    const t0 = Date.now();
    const { sender } = start();
    sender.wake();
    await until(() => outbox.stats().bufferedRecords === 0, 5_000);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(api.logged.size).toBe(20_160);
    expect(api.calls.length).toBe(21); // 20 full batches of MAX_RECORDS_PER_PUSH + 160
    expect(api.maxInFlight).toBe(1);
  }, 20_000);

  it('deletes only what the server acked and resends the rest', async () => {
    for (let i = 0; i < 10; i++) outbox.append(fakeRecord());
    api.ackCap = 4;
    const { sender } = start({ maxRecords: 10 });
    sender.wake();
    await until(() => api.calls.length >= 1);
    await until(() => outbox.stats().bufferedRecords === 6);
    expect(outbox.oldest(10, 1e9)[0]?.seq).toBe(5);
    api.ackCap = Infinity;
    sender.connected();
    await until(() => outbox.stats().bufferedRecords === 0);
    expect([...api.logged].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('waits while disconnected and pushes on reconnect', async () => {
    api.connected = false;
    outbox.append(fakeRecord());
    const { sender } = start();
    sender.wake();
    await new Promise((r) => setTimeout(r, 50));
    expect(api.calls).toEqual([]);
    api.connected = true;
    sender.connected();
    await until(() => outbox.stats().bufferedRecords === 0);
  });

  it('retries transient failures with backoff and reports them', async () => {
    outbox.append(fakeRecord());
    api.failWith = [new LinkError('TRANSIENT', 'socket closed'), new LinkError('TIMEOUT', 'slow')];
    const { sender } = start();
    sender.wake();
    await until(() => outbox.stats().bufferedRecords === 0);
    expect(api.calls.length).toBe(3);
    expect(sender.stats().failures).toBe(2);
    expect(errors.peek().map((e) => e.code)).toEqual(['push.transient', 'push.timeout']);
  });

  it('isolates and drops a record the server refuses, keeping the rest', async () => {
    for (let i = 0; i < 8; i++) outbox.append(fakeRecord());
    api.refuseSeq = 3;
    const { sender } = start();
    sender.wake();
    await until(() => outbox.stats().bufferedRecords === 0);
    expect(api.logged.has(3)).toBe(false);
    expect(api.logged.size).toBe(7);
    expect(outbox.stats().droppedTotal).toBe(1);
    expect(errors.peek().map((e) => e.code)).toContain('push.refused');
  });

  it('counts the records it drops because the server named them invalid', async () => {
    for (let i = 0; i < 4; i++) outbox.append(fakeRecord());
    api.refuseSeq = 2;
    api.refusal = () => new LinkError('BAD_REQUEST', 'invalid input', {
      cause: { data: { zodError: { formErrors: [], fieldErrors: { records: ['collectedAt: too big'] } } } },
    });
    const { sender } = start();
    sender.wake();
    await until(() => outbox.stats().bufferedRecords === 0);
    expect([...api.logged].sort()).toEqual([1, 3, 4]);
    expect(sender.stats().recordsRefused).toBe(1);
    expect(outbox.stats().droppedTotal).toBe(1);
  });

  it('keeps its records when the server refuses the request rather than the records, and retries', async () => {
    for (let i = 0; i < 3; i++) outbox.append(fakeRecord());
    // A newer agent's extra field on an older server: the refusal names no record.
    const unknownField = () => new LinkError('BAD_REQUEST', 'invalid input', {
      cause: { data: { zodError: { formErrors: ['Unrecognized key: "compression"'], fieldErrors: {} } } },
    });
    api.failWith = [unknownField(), unknownField(), unknownField()];
    const { sender } = start();
    sender.wake();
    await until(() => outbox.stats().bufferedRecords === 0);
    expect([...api.logged].sort()).toEqual([1, 2, 3]);
    expect(outbox.stats().droppedTotal).toBe(0);
    expect(sender.stats()).toMatchObject({ recordsRefused: 0, failures: 3 });
  });

  it('backs off slowly when the device is unauthorized', async () => {
    outbox.append(fakeRecord());
    api.failWith = [new LinkError('UNAUTHORIZED', 'decommissioned')];
    const { sender } = start({ unauthorizedDelayMs: 60_000 });
    sender.wake();
    await until(() => api.calls.length === 1);
    await new Promise((r) => setTimeout(r, 100));
    expect(api.calls.length).toBe(1);
    expect(outbox.stats().bufferedRecords).toBe(1);
    sender.connected(); // a fresh connection is worth one more try
    await until(() => outbox.stats().bufferedRecords === 0);
  });

  it('stops promptly when aborted', async () => {
    const { done } = start();
    abort.abort();
    await expect(done).resolves.toBeUndefined();
  });

  it('lets a push in flight at a stop get its ack within the grace, and no longer', async () => {
    class SlowApi extends FakeApi {
      delayMs = 150;
      override async push(input: PushInput, signal?: AbortSignal): Promise<PushOutput> {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(resolve, this.delayMs);
          signal?.addEventListener('abort', () => {
            clearTimeout(timer);
            reject(new LinkError('TIMEOUT', 'aborted'));
          }, { once: true });
        });
        return super.push(input);
      }
    }
    const slow = new SlowApi();
    api = slow;
    for (let i = 0; i < 3; i++) outbox.append(fakeRecord());
    const graced = start({ stopGraceMs: 1_000 });
    await new Promise((r) => setTimeout(r, 20)); // the push is waiting on the server
    abort.abort();
    await graced.done;
    expect(outbox.stats().bufferedRecords).toBe(0);

    // A server that does not answer within the grace: the call is cut, the records stay.
    abort = new AbortController();
    slow.delayMs = 5_000;
    for (let i = 3; i < 5; i++) outbox.append(fakeRecord());
    const cut = start({ stopGraceMs: 50 });
    await new Promise((r) => setTimeout(r, 20));
    const stoppedAt = Date.now();
    abort.abort();
    await cut.done;
    expect(Date.now() - stoppedAt).toBeLessThan(1_000);
    expect(outbox.stats().bufferedRecords).toBe(2);
  });
});
