import { randomUUID } from 'node:crypto';
import { encodeUploadFrame, remoteErrorSchema, remoteResultSchemas, type ChunkFrame, type RemoteError, type RemoteOp, type RemoteOpKind, type RemoteResult } from '@ninjait/shared';
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

/** A download chunk's answer as it travels inside the server: bytes, not base64, when they came as a frame. */
type ChunkAnswer = { offset: number; data: string | Buffer };
type Answer = { ok: true; result: unknown } | { ok: false; error: RemoteError };
/** An upload chunk's bytes as they arrived (the pieces of an HTTP body), never base64 until JSON needs it. */
export interface UploadChunk { transferId: string; path: string; offset: number; data: readonly Buffer[] }
/** What the pending key holds: who may answer, what was asked, and for a chunk which range. */
interface Pending { deviceId: string; kind: RemoteOpKind; offset?: number; length?: number }

const UNREADABLE: Answer = { ok: false, error: { code: 'FAILED', message: 'The device answered with something this server does not understand (agent version?)' } };

/**
 * Request/answer with a device over its command stream: the request goes out on the device's
 * channel (whichever instance holds its socket delivers it), the answer comes back through
 * `agent.remoteResult` on that instance and is published to the instance that asked. Only the
 * device a request was sent to may answer it, and the answer is checked against the schema of
 * what was asked.
 *
 * A download chunk is offered as a binary frame (`answer: 'binary'`, see `chunk-frames.ts`):
 * the bytes stay a Buffer from the agent's socket to whoever reads them, where base64 in JSON
 * copied each 1 MiB chunk several times as 1.4 MB strings (a transfer's heap swung by 180 MB
 * and its rate stopped near 40 MB/s). Agents that do not speak it answer in JSON, still taken.
 *
 * An upload chunk goes the other way as a binary frame (`upload-frames.ts`) when the device's
 * socket is on this instance and its agent takes them (`sendUploadFrame`); otherwise as an
 * `fs.uploadChunk` op with the bytes in base64, as before.
 *
 * When both ends are on this instance (the device's stream runs here, the request was made
 * here) the request and its answer are handed over in memory. Across instances an answer goes
 * over the cache's pub/sub as JSON (a chunk as base64 there). Either way only the asked device
 * may answer: a chunk delivered here is recorded here, anything else under a pending key in the
 * cache, which any instance that takes the device's answer can read.
 */
export function createDeviceRpc(deps: {
  cache: CacheStore; local?: LocalDevices;
  /** Sends an upload frame to the device's socket on this instance; false when it cannot (no socket here, an older agent). */
  sendUploadFrame?: (deviceId: string, frame: Buffer) => boolean;
}) {
  const { cache, local } = deps;
  /** Requests made on this instance, waiting for their answer. */
  const waiting = new Map<string, (answer: Answer) => void>();
  /**
   * Chunk requests handed to a device stream on this instance: who may answer them is kept here
   * instead of in the cache. A download asks for a thousand chunks per GiB, and the pending key,
   * the answer channel's subscription and their removal were six cache round trips in each
   * chunk's path (a streamed download spent most of its time waiting on them).
   */
  const heldHere = new Map<string, Pending>();

  /**
   * Asks the device and waits for its answer. `asFrame`, when given, first tries to send the
   * request as a binary frame (its answer is then taken here); `build` makes the JSON op, called
   * only when the request goes as JSON after all (an upload chunk's base64 costs its bytes again).
   * `onlyHere`: when `asFrame` cannot deliver it, the request fails instead of going as JSON.
   */
  async function request(deviceId: string, kind: RemoteOpKind, build: () => RemoteOp, asFrame?: (requestId: string) => boolean, onlyHere = false): Promise<unknown> {
    const requestId = randomUUID();
    const timeoutMs = SLOW_KINDS.includes(kind) ? SLOW_RPC_TIMEOUT_MS : RPC_TIMEOUT_MS;
    let built: RemoteOp | null = null;
    const op = () => (built ??= build());
    const range = kind === 'fs.downloadChunk' ? op() as Extract<RemoteOp, { kind: 'fs.downloadChunk' }> : null;
    const pending: Pending = range ? { deviceId, kind, offset: range.offset, length: range.length } : { deviceId, kind };
    let settle!: (answer: Answer | null) => void;
    const answered = new Promise<Answer | null>((resolve) => (settle = resolve));
    waiting.set(requestId, settle);
    const timer = setTimeout(() => settle(null), timeoutMs);
    let viaCache: { unsubscribe: () => Promise<void> } | null = null;
    try {
      // A frame goes to the device's socket here, so its answer comes here: recorded here only.
      if (asFrame) heldHere.set(requestId, pending);
      let delivered = asFrame?.(requestId) ?? false;
      if (!delivered && !onlyHere) {
        const message = { type: 'remote', requestId, op: op(), ...(range ? { answer: 'binary' as const } : {}) } satisfies DeviceChannelMessage;
        // A chunk for a device whose stream is here is answered here (a frame on its socket, or
        // its JSON answer on the same socket). Should it reconnect to another instance meanwhile,
        // the answer finds no pending key there and is dropped: the request times out and the
        // download resumes from the bytes it has, as after any dropped connection.
        if (range && local) heldHere.set(requestId, pending);
        else heldHere.delete(requestId);
        delivered = heldHere.has(requestId) && local!.deliver(deviceId, message);
        if (!delivered) {
          heldHere.delete(requestId);
          await cache.set(pendingKey(requestId), JSON.stringify(pending), Math.ceil(timeoutMs / 1000) + 5);
          viaCache = { unsubscribe: await cache.subscribe(answerChannel(requestId), (raw) => settle(JSON.parse(raw) as Answer)) };
          // Nobody listening on the device's channel: no instance holds its socket, so nobody will answer.
          delivered = local?.deliver(deviceId, message) || (await cache.publish(deviceChannel(deviceId), JSON.stringify(message))) > 0;
        }
      }
      if (!delivered) throw new AppError('SERVICE_UNAVAILABLE', 'The device is not connected right now; try again when it is online');
      const answer = await answered;
      if (!answer) throw new AppError('SERVICE_UNAVAILABLE', `The device did not answer within ${Math.round(timeoutMs / 1000)} s: is it online, with an agent that supports remote access?`);
      if (!answer.ok) throw new AppError(ERROR_CODES[answer.error.code], answer.error.message);
      return answer.result;
    } finally {
      waiting.delete(requestId);
      heldHere.delete(requestId);
      clearTimeout(timer);
      if (viaCache) {
        await cache.del([pendingKey(requestId)]).catch(() => undefined);
        await viaCache.unsubscribe().catch(() => undefined);
      }
    }
  }

  /**
   * Takes the pending request `requestId` if `deviceId` may answer it: one held here (removed,
   * so a second answer finds nothing), else the cache's key, removed by whoever takes it first.
   */
  async function takePending(deviceId: string, requestId: string, fits: (pending: Pending) => boolean): Promise<Pending | null> {
    const here = heldHere.get(requestId);
    if (here) {
      if (here.deviceId !== deviceId || !fits(here)) return null;
      heldHere.delete(requestId);
      return here;
    }
    const pending = await pendingFor(deviceId, requestId);
    if (!pending || !fits(pending)) return null;
    await cache.del([pendingKey(requestId)]);
    return pending;
  }

  /** The pending request `requestId` if `deviceId` may answer it. */
  async function pendingFor(deviceId: string, requestId: string): Promise<Pending | null> {
    const raw = await cache.get(pendingKey(requestId));
    const pending = raw ? (JSON.parse(raw) as Pending) : null;
    return pending?.deviceId === deviceId ? pending : null;
  }

  /** Hands the answer to the request waiting here, or publishes it to the instance that asked. */
  async function deliverAnswer(requestId: string, answer: Answer) {
    const here = waiting.get(requestId);
    if (here) return here(answer);
    const result = answer.ok ? answer.result as ChunkAnswer : null;
    const wire = result && Buffer.isBuffer(result.data) ? { ok: true, result: { offset: result.offset, data: result.data.toString('base64') } } : answer;
    await cache.publish(answerChannel(requestId), JSON.stringify(wire));
  }

  return {
    async call<K extends RemoteOpKind>(deviceId: string, op: Extract<RemoteOp, { kind: K }>): Promise<RemoteResult<K>> {
      const result = await request(deviceId, op.kind, () => op);
      const chunk = op.kind === 'fs.downloadChunk' ? result as ChunkAnswer : null;
      // Callers of this general form (the console's chunk procedure) get the chunk as JSON has it.
      if (chunk && Buffer.isBuffer(chunk.data)) return { offset: chunk.offset, data: chunk.data.toString('base64') } as RemoteResult<K>;
      return result as RemoteResult<K>;
    },
    /**
     * Sends `op` only to a socket of the device on this instance, and takes its answer here;
     * SERVICE_UNAVAILABLE when the device's socket is elsewhere (or nowhere).
     */
    async callHere<K extends RemoteOpKind>(deviceId: string, op: Extract<RemoteOp, { kind: K }>): Promise<RemoteResult<K>> {
      const deliver = (requestId: string) => local?.deliver(deviceId, { type: 'remote', requestId, op }) ?? false;
      return await request(deviceId, op.kind, () => op, deliver, true) as RemoteResult<K>;
    },
    /** `length` bytes of a file at `offset` (fewer at its end), as bytes, however the device sent them. */
    async readChunk(deviceId: string, path: string, offset: number, length: number): Promise<Buffer> {
      const { data } = await request(deviceId, 'fs.downloadChunk', () => ({ kind: 'fs.downloadChunk', path, offset, length })) as ChunkAnswer;
      return Buffer.isBuffer(data) ? data : Buffer.from(data, 'base64');
    },
    /**
     * Writes an upload chunk on the device, as a frame when its socket is here and its agent
     * takes them, else as JSON; answers where the device's partial file now ends.
     */
    async writeChunk(deviceId: string, chunk: UploadChunk): Promise<RemoteResult<'fs.uploadChunk'>> {
      const { transferId, path, offset } = chunk;
      const sendFrame = deps.sendUploadFrame;
      const asFrame = sendFrame && ((requestId: string) => sendFrame(deviceId, encodeUploadFrame({ requestId, transferId, path, offset, data: chunk.data })));
      const json = (): RemoteOp => ({ kind: 'fs.uploadChunk', transferId, path, offset, data: Buffer.concat(chunk.data).toString('base64') });
      return await request(deviceId, 'fs.uploadChunk', json, asFrame) as RemoteResult<'fs.uploadChunk'>;
    },
    /** From the device: accepted only for a pending request sent to this device, and only in the shape asked for. */
    async fromAgent(deviceId: string, input: { requestId: string; ok: boolean; result?: unknown; error?: unknown }) {
      const pending = await takePending(deviceId, input.requestId, () => true);
      if (!pending) return { accepted: false };
      let answer: Answer;
      if (input.ok) {
        const parsed = remoteResultSchemas[pending.kind].safeParse(input.result);
        const sameRange = pending.offset === undefined || (parsed.data as ChunkAnswer | undefined)?.offset === pending.offset;
        answer = parsed.success && sameRange ? { ok: true, result: parsed.data } : UNREADABLE;
      } else {
        const parsed = remoteErrorSchema.safeParse(input.error);
        answer = { ok: false, error: parsed.success ? parsed.data : { code: 'FAILED', message: 'The device reported an unreadable error' } };
      }
      await deliverAnswer(input.requestId, answer);
      return { accepted: true };
    },
    /**
     * A download chunk as a binary frame from the device's socket: taken only as the answer to a
     * chunk request sent to this device, at the offset asked and no longer than asked. Anything
     * else (an unknown or finished request, another device's, another range) is refused and
     * the request keeps waiting for its real answer.
     */
    async fromAgentFrame(deviceId: string, frame: ChunkFrame): Promise<{ accepted: boolean }> {
      const fits = (pending: Pending) => pending.kind === 'fs.downloadChunk' && frame.offset === pending.offset && frame.data.length <= (pending.length ?? 0);
      if (!await takePending(deviceId, frame.requestId, fits)) return { accepted: false };
      await deliverAnswer(frame.requestId, { ok: true, result: { offset: frame.offset, data: frame.data } satisfies ChunkAnswer });
      return { accepted: true };
    },
  };
}
export type DeviceRpc = ReturnType<typeof createDeviceRpc>;
