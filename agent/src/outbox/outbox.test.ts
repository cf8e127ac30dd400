import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_RECORD_AGE_MS } from '@ninjait/shared';
import { fakeInventory, fakeRecord, fakeSample } from '../testing/fixtures.ts';
import { OUTBOX_FILE } from '../config/paths.ts';
import { openOutbox } from './outbox.ts';
import { readOutboxStats } from './read-stats.ts';
import type { Outbox } from './types.ts';

let dir: string;
let file: string;
const opened: Outbox[] = [];
/** The outbox's clock in these tests: records collected at 1_000 ms and so on are a moment old, not 56 years. */
const NOW_MS = 100_000;
const open = (bufferMaxMb = 64) => {
  const o = openOutbox({ file, bufferMaxMb, now: () => NOW_MS });
  opened.push(o);
  return o;
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ninjait-outbox-'));
  file = join(dir, OUTBOX_FILE);
});
afterEach(() => {
  for (const o of opened.splice(0)) {
    try { o.close(); } catch { /* already closed */ }
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('outbox', () => {
  it('appends with increasing seq and returns the oldest first', () => {
    const o = open();
    expect(o.append(fakeRecord(1_000)).seq).toBe(1);
    expect(o.append({ kind: 'inventory', collectedAt: 2_000, inventory: fakeInventory() }).seq).toBe(2);
    expect(o.append(fakeRecord(3_000)).seq).toBe(3);
    const batch = o.oldest(2, 1e9);
    expect(batch.map((r) => r.seq)).toEqual([1, 2]);
    expect(batch[0]).toMatchObject({ kind: 'sample', collectedAt: 1_000 });
    expect(batch[1]).toMatchObject({ kind: 'inventory', inventory: { hostname: 'test-host' } });
    expect(o.stats()).toMatchObject({ bufferedRecords: 3, nextSeq: 4, droppedTotal: 0, oldestCollectedAt: 1_000 });
  });

  it('never hands out a record older than the maximum age: drops and counts it, keeps the rest', () => {
    const o = open();
    const day = 24 * 3_600_000;
    let clock = 40 * day;
    const aged = openOutbox({ file, bufferMaxMb: 64, now: () => clock });
    opened.push(aged);
    aged.append(fakeRecord(clock - MAX_RECORD_AGE_MS - 1)); // seq 1: a month and a moment old
    aged.append(fakeRecord(clock - day)); // seq 2
    aged.append(fakeRecord(clock - MAX_RECORD_AGE_MS - day)); // seq 3: collected before a clock jump back
    aged.append(fakeRecord(clock)); // seq 4
    expect(aged.oldest(100, 1e9).map((r) => r.seq)).toEqual([2, 4]);
    expect(aged.stats()).toMatchObject({ bufferedRecords: 2, droppedTotal: 2 });
    // Time passes while the agent is offline: seq 2 ages out too.
    clock += MAX_RECORD_AGE_MS;
    expect(aged.oldest(100, 1e9).map((r) => r.seq)).toEqual([4]);
    expect(aged.stats()).toMatchObject({ bufferedRecords: 1, droppedTotal: 3, oldestCollectedAt: 40 * day });
    expect(o.stats().bufferedBytes).toBe(aged.stats().bufferedBytes); // the same file: the byte total stayed exact
  });

  it('rejects an invalid record and does not consume a seq', () => {
    const o = open();
    const bad = { kind: 'sample', collectedAt: 1, sample: { ...fakeSample(), uptimeSec: -1 } } as const;
    expect(() => o.append(bad)).toThrow();
    expect(o.append(fakeRecord()).seq).toBe(1);
  });

  it('limits a batch by bytes but always returns one record', () => {
    const o = open();
    for (let i = 0; i < 5; i++) o.append(fakeRecord(1_000 + i, 400));
    expect(o.oldest(100, 1).length).toBe(1);
    const one = JSON.stringify(o.oldest(1, 1e9)[0]).length;
    // The estimate errs high (fixed envelope allowance), so two records fit twice their size plus slack, three do not.
    expect(o.oldest(100, (one + 100) * 2).length).toBe(2);
  });

  it('acks only seq <= ackSeq and keeps the byte total exact', () => {
    const o = open();
    for (let i = 0; i < 5; i++) o.append(fakeRecord());
    const total = o.stats().bufferedBytes;
    expect(o.ackUpTo(3)).toBe(3);
    expect(o.oldest(10, 1e9).map((r) => r.seq)).toEqual([4, 5]);
    expect(o.stats().bufferedBytes).toBe((total / 5) * 2);
    expect(o.ackUpTo(3)).toBe(0);
    expect(o.ackUpTo(5)).toBe(2);
    expect(o.stats()).toMatchObject({ bufferedRecords: 0, bufferedBytes: 0, droppedTotal: 0, oldestCollectedAt: null });
  });

  it('never numbers at or below what the server acked', () => {
    const o = open();
    o.append(fakeRecord());
    o.ackUpTo(41);
    expect(o.append(fakeRecord()).seq).toBe(42);
  });

  it('keeps seq monotonic across close and reopen, even when empty', () => {
    let o = open();
    for (let i = 0; i < 3; i++) o.append(fakeRecord());
    o.ackUpTo(3);
    o.close();
    o = open();
    expect(o.append(fakeRecord()).seq).toBe(4);
    expect(o.stats().bufferedRecords).toBe(1);
  });

  it('drops the oldest records over the cap and counts them exactly', () => {
    const o = open(0.01); // ~10 KiB
    const seqs: number[] = [];
    let dropped = 0;
    for (let i = 0; i < 40; i++) {
      const r = o.append(fakeRecord(1_000 + i, 200));
      seqs.push(r.seq);
      dropped += r.dropped;
    }
    const s = o.stats();
    expect(dropped).toBeGreaterThan(0);
    expect(s.droppedTotal).toBe(dropped);
    expect(s.bufferedRecords + s.droppedTotal).toBe(40);
    expect(s.bufferedBytes).toBeLessThanOrEqual(0.01 * 1024 * 1024);
    const left = o.oldest(1_000, 1e9).map((r) => r.seq);
    expect(left).toEqual(seqs.slice(dropped));
    o.close();
    expect(readOutboxStats(file)).toMatchObject({ droppedTotal: dropped, bufferedRecords: 40 - dropped });
  });

  it('appends many in one transaction, all or none', () => {
    const o = open();
    expect(o.appendMany([fakeRecord(), fakeRecord()]).map((r) => r.seq)).toEqual([1, 2]);
    const bad = { kind: 'sample', collectedAt: 1, sample: { ...fakeSample(), uptimeSec: -1 } } as const;
    expect(() => o.appendMany([fakeRecord(), bad])).toThrow();
    expect(o.stats()).toMatchObject({ bufferedRecords: 2, nextSeq: 3 });
  });

  it('discards a refused record as dropped', () => {
    const o = open();
    o.append(fakeRecord());
    o.append(fakeRecord());
    expect(o.discard(1)).toBe(true);
    expect(o.discard(1)).toBe(false);
    expect(o.stats()).toMatchObject({ bufferedRecords: 1, droppedTotal: 1 });
  });

  it('seeds from the server: trims logged records for the same device', () => {
    const o = open();
    for (let i = 0; i < 5; i++) o.append(fakeRecord());
    o.seed(4, { resequence: false });
    expect(o.oldest(10, 1e9).map((r) => r.seq)).toEqual([4, 5]);
    expect(o.stats().nextSeq).toBe(6);
    o.seed(100, { resequence: false });
    expect(o.stats()).toMatchObject({ bufferedRecords: 0, nextSeq: 100 });
  });

  it('seeds from the server: renumbers buffered records for a new identity', () => {
    const o = open();
    for (let i = 0; i < 3; i++) o.append(fakeRecord(1_000 + i));
    o.seed(50, { resequence: true });
    const left = o.oldest(10, 1e9);
    expect(left.map((r) => r.seq)).toEqual([50, 51, 52]);
    expect(left.map((r) => r.collectedAt)).toEqual([1_000, 1_001, 1_002]);
    expect(o.append(fakeRecord()).seq).toBe(53);
    o.seed(10, { resequence: true }); // never backwards
    expect(o.append(fakeRecord()).seq).toBe(54);
  });

  it('reads stats read-only while a writer holds the file', () => {
    const o = open();
    o.append(fakeRecord());
    expect(readOutboxStats(file)).toMatchObject({ bufferedRecords: 1, nextSeq: 2 });
    expect(readOutboxStats(join(dir, 'missing.db'))).toBeNull();
  });

  it('does not count as dropped the records the cap removed while the server was logging them', () => {
    const o = open(0.01);
    for (let i = 0; i < 5; i++) o.append(fakeRecord(1_000 + i, 200));
    const batch = o.oldest(1_000, 1 << 20);
    let dropped = 0;
    // While the batch is on the wire, appends push the oldest (in-flight) records out.
    for (let i = 0; dropped === 0; i++) dropped += o.append(fakeRecord(2_000 + i, 200)).dropped;
    expect(o.stats().droppedTotal).toBe(dropped);
    o.ackUpTo(batch.at(-1)!.seq);
    // The server logged them, so they were not lost.
    expect(o.stats().droppedTotal).toBe(0);
    o.close();
  });
});
