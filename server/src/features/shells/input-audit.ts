import { writeCommandAudit, type Auditor, type Requester } from '../commands/index.ts';

/** Characters of typed input one audit entry holds; a longer burst is recorded as several entries. */
export const SHELL_INPUT_AUDIT_CHARS = 16 * 1024;
/**
 * A session's entries are written at most once per this interval on average, with a burst of
 * SHELL_INPUT_AUDIT_BURST: a person typing (a few keys a second, in bursts) is written and
 * forwarded at once, key by key, while a keystroke storm or a paste waits and shares entries, so
 * it costs ten entries a second, not one per key.
 */
export const SHELL_INPUT_AUDIT_INTERVAL_MS = 100;
export const SHELL_INPUT_AUDIT_BURST = 10;

/** The shell session typed into: what every entry names. */
export interface TypedInto {
  sessionId: string;
  deviceId: string;
  organizationId: string;
}

interface Typed {
  requester: Requester;
  data: string;
  forward: () => Promise<void>;
  settle: { resolve: () => void; reject: (error: unknown) => void };
}

/** Consecutive inputs from the same person and address become one entry's text, cut to the entry size. */
function entriesOf(batch: readonly Typed[]): { requester: Requester; text: string; chunks: number }[] {
  const entries: { requester: Requester; text: string; chunks: number }[] = [];
  for (const item of batch) {
    const last = entries.at(-1);
    const same = last && last.requester.userId === item.requester.userId && last.requester.ip === item.requester.ip;
    if (same && last.text.length + item.data.length <= SHELL_INPUT_AUDIT_CHARS) {
      last.text += item.data;
      last.chunks += 1;
      continue;
    }
    for (let start = 0; start < item.data.length; start += SHELL_INPUT_AUDIT_CHARS) {
      entries.push({ requester: item.requester, text: item.data.slice(start, start + SHELL_INPUT_AUDIT_CHARS), chunks: start === 0 ? 1 : 0 });
    }
  }
  return entries;
}

/**
 * What is typed into shells goes to the audit log BEFORE it goes to the device, so nothing that
 * ran is missing from the trail. Per session, entries are written as a token bucket allows
 * (SHELL_INPUT_AUDIT_INTERVAL_MS, SHELL_INPUT_AUDIT_BURST); what arrives while a write is in
 * flight or the bucket is empty is written together next, then forwarded in the order typed. A
 * documents store that is down does not stop the shell: the audit helper logs the entry instead.
 */
export function createShellInputAudit(auditor: Auditor, options: { intervalMs?: number; burst?: number } = {}) {
  const intervalMs = options.intervalMs ?? SHELL_INPUT_AUDIT_INTERVAL_MS;
  const burst = options.burst ?? SHELL_INPUT_AUDIT_BURST;
  const queues = new Map<string, Typed[]>();
  const buckets = new Map<string, { tokens: number; atMs: number }>();
  const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

  /** Takes a token for the session's next entry: 0 when one is there, else how long until one is. */
  function take(sessionId: string): number {
    if (intervalMs <= 0) return 0;
    const now = Date.now();
    const bucket = buckets.get(sessionId) ?? { tokens: burst, atMs: now };
    bucket.tokens = Math.min(burst, bucket.tokens + (now - bucket.atMs) / intervalMs);
    bucket.atMs = now;
    buckets.set(sessionId, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - bucket.tokens) * intervalMs);
  }

  /** A bucket that has refilled is the same as none: forgotten then, so ended sessions leave nothing behind. */
  function forgetWhenFull(sessionId: string): void {
    const bucket = buckets.get(sessionId);
    if (!bucket) return;
    setTimeout(() => {
      // Taken from since this was scheduled: not full yet, and its next drain schedules again.
      const full = bucket.tokens + (Date.now() - bucket.atMs) / intervalMs >= burst;
      if (buckets.get(sessionId) === bucket && full && !queues.has(sessionId)) buckets.delete(sessionId);
    }, Math.ceil((burst - bucket.tokens) * intervalMs) + 1).unref();
  }

  async function write(session: TypedInto, batch: readonly Typed[]): Promise<void> {
    await Promise.all(entriesOf(batch).map((entry) => writeCommandAudit(auditor, {
      organizationId: session.organizationId, userId: entry.requester.userId, action: 'shell.input', resourceId: session.sessionId,
      ipAddress: entry.requester.ip,
      details: { deviceId: session.deviceId, input: entry.text, chunks: entry.chunks, requestedBy: entry.requester.label },
    }).catch(() => undefined)));
    for (const item of batch) {
      try {
        await item.forward();
        item.settle.resolve();
      } catch (error) {
        item.settle.reject(error);
      }
    }
  }

  /** Writes what is queued as tokens allow; input arriving meanwhile joins the next write. */
  async function drain(session: TypedInto, queue: Typed[]): Promise<void> {
    while (queue.length > 0) {
      const waitMs = take(session.sessionId);
      if (waitMs > 0) {
        await pause(waitMs);
        continue;
      }
      await write(session, queue.splice(0));
    }
    queues.delete(session.sessionId);
    forgetWhenFull(session.sessionId);
  }

  return {
    /** Audits `data`, then runs `forward`; resolves once forwarded, in the order typed. */
    submit(session: TypedInto, requester: Requester, data: string, forward: () => Promise<void>): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        const item: Typed = { requester, data, forward, settle: { resolve, reject } };
        const queue = queues.get(session.sessionId);
        if (queue) {
          queue.push(item);
          return;
        }
        const fresh = [item];
        queues.set(session.sessionId, fresh);
        void drain(session, fresh);
      });
    },
  };
}
export type ShellInputAudit = ReturnType<typeof createShellInputAudit>;
