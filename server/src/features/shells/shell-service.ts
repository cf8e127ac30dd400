import { randomUUID } from 'node:crypto';
import type { RelationalStore } from '../../stores/relational/index.ts';
import type { CacheStore } from '../../stores/cache/index.ts';
import { notFound } from '../../platform/errors.ts';
import { createAsyncQueue } from '../../platform/trpc/async-queue.ts';
import { writeCommandAudit, type Auditor, type LocalDevices, shellChannel, type Publisher, type Requester, targetDevice, type Shell, type ShellMessage } from '../commands/index.ts';
import { storableText, TERMINAL_COLS, TERMINAL_ROWS } from '@ninjait/shared';
import { createShellInputAudit } from './input-audit.ts';
import { recordingRepository, toAsciicast } from './recordings.ts';
import { createRecorder } from './recorder.ts';

export const DEFAULT_SHELL_IDLE_SEC = 15 * 60;
/**
 * How long after its session key a shell's device is still known: the device's closing report
 * can come after the key expired (idle), and must be checked against the device that owns it.
 */
const OWNER_GRACE_SEC = 10 * 60;

interface SessionRecord {
  sessionId: string;
  shell: Shell;
  deviceId: string;
  organizationId: string;
  userId: string | null;
  idleTimeoutSec: number;
  cols: number;
  rows: number;
}

export const DEFAULT_TERMINAL = { cols: 80, rows: 24 } as const;
const clampSize = (n: number, bounds: { min: number; max: number }) => Math.min(bounds.max, Math.max(bounds.min, Math.trunc(n)));

/** What the agent reports and people receive: output, then one `closed`. */
export type ShellEvent =
  /** `pty`: false when the device has no pseudo-terminal and runs a piped shell (no resize, no full-screen programs). */
  | { type: 'opened'; sessionId: string; pty?: boolean | undefined }
  | { type: 'output'; seq: number; stream: 'stdout' | 'stderr'; data: string }
  | { type: 'closed'; reason: string; exitCode: number | null };

/**
 * How long this instance trusts a session it has read from the cache, and how often typing
 * renews its expiry there. Every keystroke read the session and wrote it back (three round
 * trips before the key left); a session closed on another instance is seen here within the
 * first, and the device ignores input for a shell it has closed.
 */
const SESSION_MEMO_MS = 1_000;
const RENEW_EVERY_MS = 10_000;
/** Sessions this instance remembers at most (each is a few hundred bytes); past it the memo starts again. */
const SESSION_MEMO_MAX = 10_000;

const sessionKey = (sessionId: string) => `shell-session:${sessionId}`;
const ownerKey = (sessionId: string) => `shell-owner:${sessionId}`;

/** A shell event on the session's channel, with the instance that published it (see `localWatchers`). */
type Published = ShellEvent & { from?: string };

/**
 * Interactive shells. The session lives in the cache (any instance can take input), the shell
 * process on the device (which enforces the idle timeout), and output flows device → owning
 * instance → pub/sub → the instance streaming it to the person. Only the opener can type, and
 * what they type is audited before it reaches the device. A device's reports are published only
 * for the sessions it owns.
 *
 * When the person's stream and the device's socket are on the same instance (one server, or a
 * sticky balancer), a keystroke and its echo skip the pub/sub round trips: each is a pass through
 * this process's event loop, and with thousands of agents on that loop each pass risks waiting
 * behind their work. Messages to a device go to its stream here when it has one (`local`), and a
 * device's output goes straight to the streams here; it is still published for the other
 * instances, whose streams skip what this one published.
 */
export function createShellService(deps: { db: RelationalStore; cache: CacheStore; publisher: Publisher; audit: Auditor; local?: LocalDevices }) {
  const { db, cache, publisher } = deps;
  const instance = randomUUID();
  /** Every shell message to a device takes one way, so an open is never overtaken by the input that follows it. */
  const toDevice = async (deviceId: string, message: ShellMessage) => {
    if (!deps.local?.deliver(deviceId, message)) await publisher.toDevice(deviceId, message);
  };
  /** The people's streams on this instance, by session. */
  const localWatchers = new Map<string, Set<(event: ShellEvent) => void>>();
  const typed = createShellInputAudit(deps.audit);
  const recordings = recordingRepository(db);
  const recorder = createRecorder(db);
  /** Recording never stands in the way of the terminal: a failed write resolves false, not throws. */
  const recordEvent = (sessionId: string, kind: 'o' | 'i' | 'r', data: string) => recorder.append(sessionId, kind, storableText(data));
  /** Sessions read or written here lately: `until` how long the read is trusted, `renewed` when the cache's expiry was last pushed back. */
  const memo = new Map<string, { record: SessionRecord; until: number; renewed: number }>();
  const memoize = (record: SessionRecord, renewed: number) => {
    if (memo.size >= SESSION_MEMO_MAX) memo.clear();
    memo.set(record.sessionId, { record, until: Date.now() + SESSION_MEMO_MS, renewed });
  };
  const forget = (sessionId: string) => memo.delete(sessionId);
  /** Keeps the session alive, and its owner known a while longer (see OWNER_GRACE_SEC). */
  const remember = async (record: SessionRecord) => {
    await cache.set(sessionKey(record.sessionId), JSON.stringify(record), record.idleTimeoutSec);
    await cache.set(ownerKey(record.sessionId), record.deviceId, record.idleTimeoutSec + OWNER_GRACE_SEC);
    memoize(record, Date.now());
  };
  /** `remember` when the last renewal is RENEW_EVERY_MS old (or a quarter of a short idle timeout). */
  const renew = async (record: SessionRecord) => {
    const renewed = memo.get(record.sessionId)?.renewed ?? 0;
    if (Date.now() - renewed >= Math.min(RENEW_EVERY_MS, (record.idleTimeoutSec * 1000) / 4)) await remember(record);
  };
  /** The session as this instance last read it within SESSION_MEMO_MS, else from the cache (null: ended or unknown). */
  const lookup = async (sessionId: string): Promise<SessionRecord | null> => {
    const known = memo.get(sessionId);
    if (known && known.until > Date.now()) return known.record;
    const raw = await cache.get(sessionKey(sessionId));
    if (!raw) {
      forget(sessionId);
      return null;
    }
    const record = JSON.parse(raw) as SessionRecord;
    memoize(record, known?.renewed ?? 0);
    return record;
  };

  /** The session's audit summary (who, device, start, end, size), written once when the recording ends. */
  async function endRecording(sessionId: string, deviceId: string, reason: string) {
    const ended = await recordings.end(sessionId, reason).catch(() => null);
    if (!ended) return;
    await writeCommandAudit(deps.audit, {
      organizationId: ended.organizationId, userId: ended.userId, action: 'shell.end', resourceId: sessionId, ipAddress: null,
      details: {
        deviceId, requestedBy: ended.userLabel, startedAt: ended.startedAt, endedAt: ended.endedAt, bytes: ended.bytes, truncated: ended.truncated,
        pty: ended.pty, reason,
      },
    });
  }

  async function session(requester: Requester, sessionId: string): Promise<SessionRecord> {
    const record = await lookup(sessionId);
    const mine = record && (requester.organizationId === null || record.organizationId === requester.organizationId)
      && (requester.userId === null || record.userId === requester.userId);
    if (!record || !mine) throw notFound('Shell session');
    return record;
  }

  return {
    async open(requester: Requester, input: { deviceId: string; shell?: Shell | undefined; idleTimeoutSec?: number | undefined; cols?: number | undefined; rows?: number | undefined }) {
      const sessionId = randomUUID();
      const idleTimeoutSec = input.idleTimeoutSec ?? DEFAULT_SHELL_IDLE_SEC;
      const cols = clampSize(input.cols ?? DEFAULT_TERMINAL.cols, TERMINAL_COLS);
      const rows = clampSize(input.rows ?? DEFAULT_TERMINAL.rows, TERMINAL_ROWS);
      const record = await db.transaction(async (tx) => {
        const device = await targetDevice(tx, input.deviceId, requester.organizationId, input.shell);
        const { shell } = device;
        await recordingRepository(tx).begin({
          sessionId, organizationId: device.organizationId, deviceId: input.deviceId, userId: requester.userId, userLabel: requester.label, shell, cols, rows,
        });
        return { deviceName: device.name, sessionId, deviceId: input.deviceId, organizationId: device.organizationId, userId: requester.userId, idleTimeoutSec, shell, cols, rows };
      });
      const { deviceName, ...session } = record;
      await writeCommandAudit(deps.audit, {
        organizationId: record.organizationId, userId: requester.userId, action: 'shell.open', resourceId: sessionId,
        ipAddress: requester.ip, details: { deviceId: input.deviceId, deviceName, shell: record.shell, idleTimeoutSec, cols, rows, requestedBy: requester.label },
      });
      // The device starts the shell when someone watches its output (see `output`), so nothing is missed.
      await remember(session);
      return { sessionId, shell: record.shell, idleTimeoutSec, cols, rows };
    },

    /** Audited first (see createShellInputAudit), then sent to the device. */
    async input(requester: Requester, sessionId: string, data: string) {
      const record = await session(requester, sessionId);
      // Input keeps the session alive here; the agent restarts its own idle clock too.
      await renew(record);
      // Audited before it is sent (the trail); recorded beside the sending (the replay), not before it.
      await typed.submit(record, requester, data, async () => {
        await Promise.all([recordEvent(sessionId, 'i', data), toDevice(record.deviceId, { type: 'shell-input', sessionId, data })]);
      });
      return { ok: true };
    },

    /** A new terminal size: the pty on the device is resized (its programs get SIGWINCH) and the recording notes it. */
    async resize(requester: Requester, sessionId: string, size: { cols: number; rows: number }) {
      const current = await session(requester, sessionId);
      const cols = clampSize(size.cols, TERMINAL_COLS);
      const rows = clampSize(size.rows, TERMINAL_ROWS);
      await remember({ ...current, cols, rows });
      await recordEvent(sessionId, 'r', `${cols}x${rows}`);
      await recordings.resize(sessionId, cols, rows).catch(() => undefined);
      await toDevice(current.deviceId, { type: 'shell-resize', sessionId, cols, rows });
      return { ok: true, cols, rows };
    },

    /** A device's terminal recordings, newest first (NOT_FOUND for another organization's device). */
    async recordings(requester: Requester, deviceId: string, limit: number) {
      if (!(await recordings.deviceVisible(requester.organizationId, deviceId))) throw notFound('Device');
      return recordings.list(requester.organizationId, deviceId, limit);
    },

    /** One recording as an asciicast v2 file, with its summary. */
    async recording(requester: Requester, sessionId: string) {
      const summary = await recordings.get(requester.organizationId, sessionId);
      if (!summary) throw notFound('Recording');
      return { ...summary, asciicast: toAsciicast(summary, await recordings.events(sessionId)) };
    },

    /** The device a person's session runs on (NOT_FOUND for anyone else's): what its stream depends on. */
    async deviceOf(requester: Requester, sessionId: string): Promise<string> {
      return (await session(requester, sessionId)).deviceId;
    },

    async close(requester: Requester, sessionId: string, reason?: string) {
      const record = await session(requester, sessionId);
      forget(sessionId);
      await cache.del([sessionKey(sessionId)]);
      await toDevice(record.deviceId, { type: 'shell-close', sessionId });
      await writeCommandAudit(deps.audit, {
        organizationId: record.organizationId, userId: requester.userId, action: 'shell.close', resourceId: sessionId,
        ipAddress: requester.ip, details: { deviceId: record.deviceId, requestedBy: requester.label, ...(reason ? { reason } : {}) },
      });
      return { ok: true };
    },

    /**
     * The session's output until the shell closes, or until nothing happens for the idle timeout.
     * Subscribing starts the shell on the device.
     */
    async *output(requester: Requester, sessionId: string, signal?: AbortSignal): AsyncGenerator<ShellEvent> {
      const record = await session(requester, sessionId);
      const queue = createAsyncQueue<ShellEvent>(signal);
      const watch = (event: ShellEvent) => queue.push(event);
      const watchers = localWatchers.get(sessionId) ?? new Set();
      localWatchers.set(sessionId, watchers.add(watch));
      const unsubscribe = await cache.subscribe(shellChannel(sessionId), (raw) => {
        const { from, ...event } = JSON.parse(raw) as Published;
        if (from !== instance) queue.push(event);
      });
      // Opening (again) once subscribed: the agent ignores an open for a session it already runs.
      await toDevice(record.deviceId, {
        type: 'shell-open', sessionId, shell: record.shell, idleTimeoutSec: record.idleTimeoutSec, cols: record.cols ?? DEFAULT_TERMINAL.cols, rows: record.rows ?? DEFAULT_TERMINAL.rows,
      });
      let idle = setTimeout(() => queue.push({ type: 'closed', reason: 'idle timeout', exitCode: null }), record.idleTimeoutSec * 1000 + 5_000);
      try {
        for await (const event of queue) {
          clearTimeout(idle);
          idle = setTimeout(() => queue.push({ type: 'closed', reason: 'idle timeout', exitCode: null }), record.idleTimeoutSec * 1000 + 5_000);
          yield event;
          if (event.type === 'closed') return;
        }
      } finally {
        clearTimeout(idle);
        watchers.delete(watch);
        if (watchers.size === 0) localWatchers.delete(sessionId);
        await unsubscribe().catch(() => undefined);
      }
    },

    /**
     * From the device: published to whoever watches only when the session is this device's. A
     * closing report may outlive the session key (idle expiry): it is checked against the
     * session's owner, kept longer, so no device can end (or speak into) another's session.
     */
    async fromAgent(deviceId: string, sessionId: string, event: ShellEvent) {
      // Output, the common report, may trust a session read here lately; a closing report is checked against the cache.
      const known = event.type === 'output' ? memo.get(sessionId) : undefined;
      let owned: boolean;
      if (known && known.until > Date.now()) {
        owned = known.record.deviceId === deviceId;
      } else {
        const [raw, owner] = await cache.mget([sessionKey(sessionId), ownerKey(sessionId)]);
        const record = raw ? (JSON.parse(raw) as SessionRecord) : null;
        if (record) memoize(record, memo.get(sessionId)?.renewed ?? 0);
        owned = record ? record.deviceId === deviceId : event.type === 'closed' && owner === deviceId;
      }
      if (!owned) return { accepted: false };
      if (event.type === 'opened' && event.pty !== undefined) await recordings.markPty(sessionId, event.pty).catch(() => undefined);
      if (event.type === 'closed') {
        forget(sessionId);
        await cache.del([sessionKey(sessionId), ownerKey(sessionId)]);
        await endRecording(sessionId, deviceId, event.reason);
      }
      for (const watch of localWatchers.get(sessionId) ?? []) watch(event);
      const published = cache.publish(shellChannel(sessionId), JSON.stringify({ ...event, from: instance } satisfies Published));
      // Recorded beside the publishing, so the echo does not wait for the database.
      await Promise.all([event.type === 'output' ? recordEvent(sessionId, 'o', event.data) : null, published]);
      return { accepted: true };
    },
  };
}
export type ShellService = ReturnType<typeof createShellService>;
