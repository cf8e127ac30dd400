import { randomUUID } from 'node:crypto';
import type { RelationalStore } from '../../stores/relational/index.ts';
import type { CacheStore } from '../../stores/cache/index.ts';
import { notFound } from '../../errors.ts';
import { createAsyncQueue } from '../async-queue.ts';
import { writeCommandAudit, type Auditor } from '../audit.ts';
import { shellChannel } from '../channels.ts';
import type { Publisher } from '../events.ts';
import type { Requester } from '../requests.ts';
import { targetDevice } from '../device-ref.ts';
import type { Shell } from '../types.ts';

export const DEFAULT_SHELL_IDLE_SEC = 15 * 60;

interface SessionRecord {
  sessionId: string;
  shell: Shell;
  deviceId: string;
  organizationId: string;
  userId: string | null;
  idleTimeoutSec: number;
}

/** What the agent reports and people receive: output, then one `closed`. */
export type ShellEvent =
  | { type: 'opened'; sessionId: string }
  | { type: 'output'; seq: number; stream: 'stdout' | 'stderr'; data: string }
  | { type: 'closed'; reason: string; exitCode: number | null };

const sessionKey = (sessionId: string) => `shell-session:${sessionId}`;

/**
 * Interactive shells. The session lives in the cache (any instance can take input), the shell
 * process on the device (which enforces the idle timeout), and output flows device → owning
 * instance → pub/sub → the instance streaming it to the person. Only the opener can type.
 */
export function createShellService(deps: { db: RelationalStore; cache: CacheStore; publisher: Publisher; audit: Auditor }) {
  const { db, cache, publisher } = deps;

  async function session(requester: Requester, sessionId: string): Promise<SessionRecord> {
    const raw = await cache.get(sessionKey(sessionId));
    const record = raw ? (JSON.parse(raw) as SessionRecord) : null;
    const mine = record && (requester.organizationId === null || record.organizationId === requester.organizationId)
      && (requester.userId === null || record.userId === requester.userId);
    if (!record || !mine) throw notFound('Shell session');
    return record;
  }

  return {
    async open(requester: Requester, input: { deviceId: string; shell?: Shell | undefined; idleTimeoutSec?: number | undefined }) {
      const sessionId = randomUUID();
      const idleTimeoutSec = input.idleTimeoutSec ?? DEFAULT_SHELL_IDLE_SEC;
      const record = await db.transaction(async (tx) => {
        const device = await targetDevice(tx, input.deviceId, requester.organizationId, input.shell);
        const { shell } = device;
        return { deviceName: device.name, sessionId, deviceId: input.deviceId, organizationId: device.organizationId, userId: requester.userId, idleTimeoutSec, shell };
      });
      const { deviceName, ...session } = record;
      await writeCommandAudit(deps.audit, {
        organizationId: record.organizationId, userId: requester.userId, action: 'shell.open', resourceId: sessionId,
        ipAddress: requester.ip, details: { deviceId: input.deviceId, deviceName, shell: record.shell, idleTimeoutSec, requestedBy: requester.label },
      });
      // The device starts the shell when someone watches its output (see `output`), so nothing is missed.
      await cache.set(sessionKey(sessionId), JSON.stringify(session), idleTimeoutSec);
      return { sessionId, shell: record.shell, idleTimeoutSec };
    },

    async input(requester: Requester, sessionId: string, data: string) {
      const record = await session(requester, sessionId);
      // Input keeps the session alive here; the agent restarts its own idle clock too.
      await cache.set(sessionKey(sessionId), JSON.stringify(record), record.idleTimeoutSec);
      await publisher.toDevice(record.deviceId, { type: 'shell-input', sessionId, data });
      return { ok: true };
    },

    async close(requester: Requester, sessionId: string) {
      const record = await session(requester, sessionId);
      await cache.del([sessionKey(sessionId)]);
      await publisher.toDevice(record.deviceId, { type: 'shell-close', sessionId });
      await writeCommandAudit(deps.audit, {
        organizationId: record.organizationId, userId: requester.userId, action: 'shell.close', resourceId: sessionId,
        ipAddress: requester.ip, details: { deviceId: record.deviceId, requestedBy: requester.label },
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
      const unsubscribe = await cache.subscribe(shellChannel(sessionId), (raw) => queue.push(JSON.parse(raw) as ShellEvent));
      // Opening (again) once subscribed: the agent ignores an open for a session it already runs.
      await publisher.toDevice(record.deviceId, { type: 'shell-open', sessionId, shell: record.shell, idleTimeoutSec: record.idleTimeoutSec });
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
        await unsubscribe().catch(() => undefined);
      }
    },

    /** From the device: checked against the session's device, then published to whoever watches. */
    async fromAgent(deviceId: string, sessionId: string, event: ShellEvent) {
      const raw = await cache.get(sessionKey(sessionId));
      const record = raw ? (JSON.parse(raw) as SessionRecord) : null;
      // A closing report may outlive the session key (idle expiry); it only names the device's own session.
      if (record && record.deviceId !== deviceId) return { accepted: false };
      if (!record && event.type !== 'closed') return { accepted: false };
      if (event.type === 'closed') await cache.del([sessionKey(sessionId)]);
      await cache.publish(shellChannel(sessionId), JSON.stringify(event));
      return { accepted: true };
    },
  };
}
export type ShellService = ReturnType<typeof createShellService>;
