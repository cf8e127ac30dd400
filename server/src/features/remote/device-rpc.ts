import { randomUUID } from 'node:crypto';
import { remoteErrorSchema, remoteResultSchemas, type RemoteError, type RemoteOp, type RemoteOpKind, type RemoteResult } from '@ninjait/shared';
import type { CacheStore } from '../../stores/cache/index.ts';
import { AppError, type AppErrorCode } from '../../platform/errors.ts';
import { deviceChannel, type LocalDevices, type DeviceChannelMessage } from '../commands/index.ts';

/** How long a device has to answer; hashing a large file takes longer than listing a folder. */
export const RPC_TIMEOUT_MS = 30_000;
export const SLOW_RPC_TIMEOUT_MS = 10 * 60_000;
const SLOW_KINDS: readonly RemoteOpKind[] = ['fs.uploadFinish', 'fs.downloadBegin', 'svc.control', 'logs.query'];

const pendingKey = (requestId: string) => `remote-request:${requestId}`;
const answerChannel = (requestId: string) => `remote:${requestId}:answer`;

/** What the device's refusal becomes for the caller. */
const ERROR_CODES: Record<RemoteError['code'], AppErrorCode> = {
  NOT_FOUND: 'NOT_FOUND', FORBIDDEN: 'FORBIDDEN', BAD_REQUEST: 'BAD_REQUEST', CONFLICT: 'CONFLICT',
  ENOSPC: 'PAYLOAD_TOO_LARGE', UNSUPPORTED: 'BAD_REQUEST', FAILED: 'CONFLICT',
};

type Answer = { ok: true; result: unknown } | { ok: false; error: RemoteError };

/**
 * Request/answer with a device over its command stream: the request goes out on the device's
 * channel (whichever instance holds its socket delivers it), the answer comes back through
 * `agent.remoteResult` on that instance and is published to the instance that asked. Only the
 * device a request was sent to may answer it, and the answer is checked against the schema of
 * what was asked.
 *
 * When both ends are on this instance (the device's stream runs here, the request was made
 * here) the request and its answer are handed over in memory: a 1 MiB file chunk is 1.4 MB of
 * base64, and serialising it for the pub/sub and parsing it back cost a fifth of a transfer's
 * server CPU. The pending key is written either way, so only the asked device may answer.
 */
export function createDeviceRpc(deps: { cache: CacheStore; local?: LocalDevices }) {
  const { cache, local } = deps;
  /** Requests made on this instance, waiting for their answer. */
  const waiting = new Map<string, (answer: Answer) => void>();
  return {
    async call<K extends RemoteOpKind>(deviceId: string, op: Extract<RemoteOp, { kind: K }>): Promise<RemoteResult<K>> {
      const requestId = randomUUID();
      const timeoutMs = SLOW_KINDS.includes(op.kind) ? SLOW_RPC_TIMEOUT_MS : RPC_TIMEOUT_MS;
      await cache.set(pendingKey(requestId), JSON.stringify({ deviceId, kind: op.kind }), Math.ceil(timeoutMs / 1000) + 5);
      let settle!: (answer: Answer | null) => void;
      const answered = new Promise<Answer | null>((resolve) => (settle = resolve));
      waiting.set(requestId, settle);
      const unsubscribe = await cache.subscribe(answerChannel(requestId), (raw) => settle(JSON.parse(raw) as Answer));
      const timer = setTimeout(() => settle(null), timeoutMs);
      try {
        const message = { type: 'remote', requestId, op } satisfies DeviceChannelMessage;
        // Nobody listening on the device's channel: no instance holds its socket, so nobody will answer.
        const delivered = local?.deliver(deviceId, message) || (await cache.publish(deviceChannel(deviceId), JSON.stringify(message))) > 0;
        if (!delivered) throw new AppError('SERVICE_UNAVAILABLE', 'The device is not connected right now; try again when it is online');
        const answer = await answered;
        if (!answer) throw new AppError('SERVICE_UNAVAILABLE', `The device did not answer within ${Math.round(timeoutMs / 1000)} s: is it online, with an agent that supports remote access?`);
        if (!answer.ok) throw new AppError(ERROR_CODES[answer.error.code], answer.error.message);
        return answer.result as RemoteResult<K>;
      } finally {
        waiting.delete(requestId);
        clearTimeout(timer);
        await cache.del([pendingKey(requestId)]).catch(() => undefined);
        await unsubscribe().catch(() => undefined);
      }
    },

    /** From the device: accepted only for a pending request sent to this device, and only in the shape asked for. */
    async fromAgent(deviceId: string, input: { requestId: string; ok: boolean; result?: unknown; error?: unknown }) {
      const raw = await cache.get(pendingKey(input.requestId));
      const pending = raw ? (JSON.parse(raw) as { deviceId: string; kind: RemoteOpKind }) : null;
      if (!pending || pending.deviceId !== deviceId) return { accepted: false };
      let answer: Answer;
      if (input.ok) {
        const parsed = remoteResultSchemas[pending.kind].safeParse(input.result);
        answer = parsed.success ? { ok: true, result: parsed.data }
          : { ok: false, error: { code: 'FAILED', message: 'The device answered with something this server does not understand (agent version?)' } };
      } else {
        const parsed = remoteErrorSchema.safeParse(input.error);
        answer = { ok: false, error: parsed.success ? parsed.data : { code: 'FAILED', message: 'The device reported an unreadable error' } };
      }
      await cache.del([pendingKey(input.requestId)]);
      const here = waiting.get(input.requestId);
      if (here) here(answer);
      else await cache.publish(answerChannel(input.requestId), JSON.stringify(answer));
      return { accepted: true };
    },
  };
}
export type DeviceRpc = ReturnType<typeof createDeviceRpc>;
