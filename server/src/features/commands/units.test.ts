import { describe, expect, it } from 'vitest';
import { assertShellSupported, defaultShell, osFamily } from './shells.ts';
import { assertScript } from './requests.ts';
import { agentResultSchema, decodeCursor, encodeCursor } from './schemas.ts';
import { createAsyncQueue } from '../../platform/trpc/async-queue.ts';
import { createLocalDevices } from './local-devices.ts';
import { createOutputLedger } from './output-ledger.ts';
import { cutToBytes, planAppend } from './output-append.ts';

describe('command helpers', () => {
  it('cuts output on UTF-8 character boundaries', () => {
    expect(cutToBytes('abc', 10)).toBe('abc');
    expect(cutToBytes('aé', 2)).toBe('a');
    expect(cutToBytes('€€', 5)).toBe('€');
    expect(Buffer.byteLength(cutToBytes('x€'.repeat(1000), 1001))).toBeLessThanOrEqual(1001);
  });

  it('maps systeminformation platforms to shells', () => {
    expect(osFamily('linux')).toBe('posix');
    expect(osFamily('darwin')).toBe('posix');
    expect(osFamily('Windows')).toBe('windows');
    expect(defaultShell('Windows')).toBe('powershell');
    expect(() => assertShellSupported('linux', 'bash')).not.toThrow();
    expect(() => assertShellSupported('linux', 'cmd')).toThrow(/not available/);
    expect(() => assertShellSupported('Windows', 'sh')).toThrow(/not available/);
    expect(() => assertShellSupported(null, 'sh')).toThrow(/operating system/);
  });

  it('refuses empty, oversized and NUL scripts', () => {
    expect(() => assertScript(' \n')).toThrow(/empty/);
    expect(() => assertScript('é'.repeat(32 * 1024 + 1))).toThrow(/limit/);
    expect(() => assertScript('a\u0000b')).toThrow(/NUL/);
    expect(() => assertScript('echo hi')).not.toThrow();
  });

  it('round-trips list cursors and rejects junk', () => {
    const row = { createdAt: new Date('2026-01-02T03:04:05.678Z'), id: '7b0c1c8e-3f5e-4c5e-9a57-0a1b2c3d4e5f' };
    expect(decodeCursor(encodeCursor(row))).toEqual(row);
    expect(decodeCursor('nope|x')).toBeUndefined();
  });

  it('async queue yields in order and ends on abort', async () => {
    const controller = new AbortController();
    const queue = createAsyncQueue<number>(controller.signal);
    queue.push(1);
    queue.push(2);
    const seen: number[] = [];
    const done = (async () => {
      for await (const item of queue) seen.push(item);
    })();
    await new Promise((resolve) => setTimeout(resolve, 10));
    queue.push(3);
    await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort();
    await done;
    expect(seen).toEqual([1, 2, 3]);
  });

  it('hands a device\'s messages to its newest live stream here, and says when there is none', () => {
    const local = createLocalDevices();
    const old: string[] = [];
    const fresh: string[] = [];
    const detachOld = local.attach('d1', (m) => old.push(m.type) > 0);
    const detachFresh = local.attach('d1', (m) => fresh.push(m.type) > 0);
    expect(local.deliver('d1', { type: 'cancel', id: 'c1' })).toBe(true);
    expect([old, fresh]).toEqual([[], ['cancel']]);
    detachFresh();
    expect(local.deliver('d1', { type: 'cancel', id: 'c2' })).toBe(true);
    expect(old).toEqual(['cancel']);
    detachOld();
    expect(local.has('d1')).toBe(false);
    expect(local.deliver('d1', { type: 'cancel', id: 'c3' })).toBe(false);
    local.attach('d2', () => false);
    expect(local.deliver('d2', { type: 'cancel', id: 'c4' })).toBe(false);
  });

  it('keeps at most so many output marks, dropping the oldest', () => {
    const ledger = createOutputLedger(2);
    const mark = { outputBytes: 1, truncated: false, nextSeq: 1 };
    ledger.set('a', mark);
    ledger.set('b', mark);
    ledger.set('a', { ...mark, nextSeq: 2 });
    ledger.set('c', mark);
    expect([ledger.get('a')?.nextSeq, ledger.get('b'), ledger.size]).toEqual([2, undefined, 2]);
  });

  it('plans an append: skips stored seqs, cuts at the cap, flags truncation', () => {
    const chunk = (seq: number, data: string) => ({ seq, stream: 'stdout' as const, data });
    const plan = planAppend({ outputBytes: 5, truncated: false, existing: [1] }, [chunk(2, 'abcdef'), chunk(1, 'x'), chunk(3, 'y')], 8);
    expect(plan).toEqual({ stored: [chunk(2, 'abc')], truncated: true, outputBytes: 8 });
  });
});


describe('what agents report about a command', () => {
  const result = (exitCode: number | null, error: string | null = null) =>
    agentResultSchema.safeParse({ commandId: '00000000-0000-4000-8000-000000000000', status: 'failed', exitCode, error });

  it('stores a Windows exit code (unsigned 32-bit) as the signed value cmd.exe shows, and fits an INTEGER column', () => {
    expect(result(0xC0000005).data?.exitCode).toBe(-1073741819);
    expect(result(255).data?.exitCode).toBe(255);
    expect(result(-1).data?.exitCode).toBe(-1);
    expect(result(2 ** 32).success).toBe(false);
  });

  it('cleans error text PostgreSQL cannot store instead of failing the report', () => {
    expect(result(1, 'bad\u0000thing').data?.error).toBe('bad\uFFFDthing');
  });
});
