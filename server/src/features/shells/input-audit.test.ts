import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../audit/index.ts';
import type { Requester } from '../commands/requests.ts';
import { createShellInputAudit, SHELL_INPUT_AUDIT_CHARS } from './input-audit.ts';

const session = { sessionId: 's1', deviceId: 'd1', organizationId: 'o1' };
const person: Requester = { userId: 'u1', label: 'tech@example.test', organizationId: 'o1', ip: '198.51.100.7' };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function recorder() {
  const entries: AuditEvent[] = [];
  const forwarded: string[] = [];
  const auditedText = () => entries.map((entry) => String(entry.details?.input)).join('');
  return {
    entries,
    forwarded,
    auditedText,
    auditor: async (_ip: string | null, event: AuditEvent) => {
      await sleep(2);
      entries.push(event);
    },
    /** Forwards `data`, checking it is in the audit trail already. */
    forward: (data: string) => async () => {
      if (!auditedText().includes(data)) throw new Error(`forwarded before it was audited: ${data}`);
      forwarded.push(data);
    },
  };
}

describe('shell input audit', () => {
  it('writes each input before forwarding it, and forwards in the order typed', async () => {
    const r = recorder();
    const typed = createShellInputAudit(r.auditor, { intervalMs: 20 });
    const keys = Array.from({ length: 30 }, (_, i) => `<${i}>`);
    await Promise.all(keys.map((key) => typed.submit(session, person, key, r.forward(key))));
    expect(r.forwarded).toEqual(keys);
    expect(r.auditedText()).toBe(keys.join(''));
    expect(r.entries[0]).toMatchObject({ action: 'shell.input', resourceId: 's1', userId: 'u1', organizationId: 'o1', details: { deviceId: 'd1' } });
  });

  it('writes and forwards a person typing at once, key by key, bursts included', async () => {
    const r = recorder();
    const typed = createShellInputAudit(r.auditor, { intervalMs: 100, burst: 10 });
    // A burst of ten keys, each waited for (as a terminal does), then keys at a typist's pace.
    for (let i = 0; i < 10; i++) {
      const started = Date.now();
      await typed.submit(session, person, `b${i}`, r.forward(`b${i}`));
      expect(Date.now() - started).toBeLessThan(60);
    }
    await sleep(1_000);
    for (let i = 0; i < 8; i++) {
      const started = Date.now();
      await typed.submit(session, person, `t${i}`, r.forward(`t${i}`));
      expect(Date.now() - started).toBeLessThan(60);
      await sleep(120);
    }
    expect(r.entries).toHaveLength(18);
  });

  it('holds a keystroke storm to the bucket: after the burst, an entry per interval, nothing lost or reordered', async () => {
    const r = recorder();
    const typed = createShellInputAudit(r.auditor, { intervalMs: 50, burst: 3 });
    const started = Date.now();
    const keys: string[] = [];
    const submitted: Promise<void>[] = [];
    for (let i = 0; i < 60; i++) {
      keys.push(`k${i};`);
      submitted.push(typed.submit(session, person, `k${i};`, r.forward(`k${i};`)));
      await sleep(5);
    }
    await Promise.all(submitted);
    const elapsedMs = Date.now() - started;
    expect(r.forwarded).toEqual(keys);
    expect(r.auditedText()).toBe(keys.join(''));
    expect(r.entries.length).toBeLessThanOrEqual(3 + Math.ceil(elapsedMs / 50) + 1);
    expect(r.entries.length).toBeLessThan(keys.length / 2);
  });

  it('splits input longer than an entry holds, losing nothing', async () => {
    const r = recorder();
    const typed = createShellInputAudit(r.auditor, { intervalMs: 0 });
    const paste = 'y'.repeat(SHELL_INPUT_AUDIT_CHARS * 2 + 5);
    await typed.submit(session, person, paste, r.forward(paste));
    expect(r.entries.map((entry) => String(entry.details?.input).length)).toEqual([SHELL_INPUT_AUDIT_CHARS, SHELL_INPUT_AUDIT_CHARS, 5]);
    expect(r.auditedText()).toBe(paste);
  });

  it('still forwards when the audit store fails (the audit helper logs the entry), and reports a failed forward', async () => {
    const typed = createShellInputAudit(async () => {
      throw new Error('store down');
    }, { intervalMs: 0 });
    const forwarded: string[] = [];
    await typed.submit(session, person, 'ls\n', async () => void forwarded.push('ls\n'));
    expect(forwarded).toEqual(['ls\n']);
    await expect(typed.submit(session, person, 'x', async () => {
      throw new Error('cache down');
    })).rejects.toThrow('cache down');
  });
});
