import { CHUNK_FRAME_HEADER_BYTES, decodeUploadFrame, oneCallPerTick, remoteOps, remoteOpSchema, type RemoteError, type RemoteOp } from '@ninjait/shared';
import type { Logger } from '../log.ts';
import type { AgentClient, RemoteMessage } from '../exec/types.ts';
import { describeRemoteError, RemoteFailure } from './errors.ts';
import { createFiles } from './files.ts';
import { createDownloadStreams, type OpenStream } from './download-streams.ts';
import { killProcess, listProcesses } from './processes.ts';
import { controlService, listServices } from './services.ts';
import { queryLogs } from './os-logs.ts';

export interface RemoteOptions {
  client: AgentClient;
  log: Logger;
  platform: NodeJS.Platform;
  /** Folders file access must stay inside; empty: anywhere the agent's account may go. */
  fileRoots: readonly string[];
  /** Sends a binary frame on the agent's socket; false when it is not open. Without it, answers are JSON. */
  sendFrame?: (frame: Buffer) => boolean;
  /** Opens a download stream's own connection to the server; without it the agent refuses streams (the server sends chunks). */
  openStream?: OpenStream;
}

/** An upload frame's op without its bytes: checked as the JSON op is (the path's bounds, the ids). */
const uploadChunkHead = remoteOps['fs.uploadChunk'].omit({ data: true });
type Outcome = { ok: true; result: unknown } | { ok: false; error: RemoteError };

/** Requests handled at once; more wait their turn (a burst of listings cannot starve the agent). */
const MAX_CONCURRENT = 8;

/**
 * Remote-access requests (files, processes, services, OS logs): each is checked against the
 * shared schema (the server is trusted, but its bytes still came from the network), done, and
 * answered on `agent.remoteResult` with a result or a `{ code, message }` a technician can read.
 */
export function createRemoteHandler(opts: RemoteOptions) {
  const { client, log, platform } = opts;
  const policy = { platform, roots: opts.fileRoots };
  const files = createFiles(policy);
  const streams = opts.openStream ? createDownloadStreams({ policy, open: opts.openStream, log }) : null;
  let active = 0;
  const waiting: (() => void)[] = [];
  // Answers that finish in one tick would go as one batched WebSocket message: eight 1 MiB
  // download chunks are over the server's 4 MB bound, which closes the socket (1009) and every
  // answer in it is lost. One answer per tick keeps each message to one chunk.
  const answer = oneCallPerTick((input: { requestId: string } & Outcome) => client.agent.remoteResult.mutate(input));

  const failure = (error: unknown, what: string, kind: string): Outcome => {
    const outcome = { ok: false as const, error: describeRemoteError(error, what) };
    if (outcome.error.code === 'FAILED') log.warn({ err: error, kind }, 'remote request failed');
    return outcome;
  };
  async function reply(requestId: string, kind: string, outcome: Outcome) {
    try {
      await answer({ requestId, ...outcome });
    } catch (error) {
      log.warn({ err: error, kind }, 'could not answer a remote request');
    }
  }

  const perform = async (op: RemoteOp): Promise<unknown> => {
    switch (op.kind) {
      case 'fs.list': return files.list(op);
      case 'fs.mkdir': return files.mkdir(op);
      case 'fs.uploadBegin': return files.uploadBegin(op);
      case 'fs.uploadChunk': return files.uploadChunk(op);
      case 'fs.uploadFinish': return files.uploadFinish(op);
      case 'fs.uploadAbort': return files.uploadAbort(op);
      case 'fs.downloadBegin': return files.downloadBegin(op);
      case 'fs.downloadChunk': return files.downloadChunk(op);
      case 'fs.downloadStream':
        if (!streams) throw new RemoteFailure('UNSUPPORTED', 'this agent does not stream downloads');
        return streams.start(op);
      case 'proc.list': return listProcesses();
      case 'proc.kill': return killProcess(op);
      case 'svc.list': return listServices(platform);
      case 'svc.control': return controlService(platform, op);
      case 'logs.query': return queryLogs(platform, op);
    }
  };

  const subject = (op: RemoteOp) => ('path' in op ? op.path : 'pid' in op ? `process ${op.pid}` : 'name' in op ? `service ${op.name}` : op.kind);

  async function handle(message: RemoteMessage): Promise<void> {
    // Upload chunks skip the turn-taking: they arrived already (the memory is spent), and one may
    // be parked waiting for an earlier one that must not queue behind it.
    const limited = message.op.kind !== 'fs.uploadChunk';
    if (limited && active >= MAX_CONCURRENT) await new Promise<void>((resolve) => waiting.push(resolve));
    if (limited) active += 1;
    let outcome: Outcome;
    try {
      const op = remoteOpSchema.parse(message.op);
      // Offered a binary answer (a server that takes chunk frames): the bytes go as they are read.
      if (op.kind === 'fs.downloadChunk' && message.answer === 'binary' && opts.sendFrame) {
        const frame = await files.downloadChunkFrame(message.requestId, op);
        if (opts.sendFrame(frame)) return;
        // The socket closed under it: JSON waits for the next socket, where a frame would be lost.
        outcome = { ok: true, result: { offset: op.offset, data: frame.subarray(CHUNK_FRAME_HEADER_BYTES).toString('base64') } };
      } else {
        outcome = { ok: true, result: await perform(op) };
      }
    } catch (error) {
      outcome = failure(error, subject(message.op), message.op.kind);
    } finally {
      if (limited) {
        active -= 1;
        waiting.shift()?.();
      }
    }
    await reply(message.requestId, message.op.kind, outcome);
  }

  /**
   * An upload chunk as a binary frame from the server (`upload-frames.ts`): written and answered
   * as its JSON form is (no turn-taking either, for the same reasons), without base64. A frame
   * that is not one is dropped: without a request id there is nobody to answer.
   */
  async function handleFrame(frame: Buffer): Promise<void> {
    const chunk = decodeUploadFrame(frame);
    if (!chunk) return void log.warn({ bytes: frame.length }, 'dropped a binary frame from the server that is not an upload chunk');
    const { requestId, data, ...head } = chunk;
    let outcome: Outcome;
    try {
      outcome = { ok: true, result: await files.uploadChunkBytes(uploadChunkHead.parse({ kind: 'fs.uploadChunk', ...head }), data) };
    } catch (error) {
      outcome = failure(error, head.path, 'fs.uploadChunk');
    }
    await reply(requestId, 'fs.uploadChunk', outcome);
  }
  /** Ends what outlives a request: download streams still sending. */
  const stop = () => streams?.stop();
  return { handle, handleFrame, stop };
}
