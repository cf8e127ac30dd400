import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  DEVICE_STREAM_PROTOCOL, DEVICE_STREAM_TICKET_HEADER, DEVICE_STREAM_PATH, FILE_CHUNK_BYTES, TRANSFER_WINDOW,
  type RemoteOp, type RemoteResult,
} from '@ninjait/shared';
import { answerRawSocket } from '../../platform/http/boundary.ts';
import { requestTarget } from '../../platform/http/request-target.ts';
import type { Logger } from '../../platform/obs/logger.ts';
import { relayStream, type RelayTarget, type StreamRelay } from './stream-relay.ts';

/** How long a device has to open its stream once asked; after that the download goes by chunks. */
export const STREAM_OPEN_TIMEOUT_MS = 15_000;
/** A stream that moves no byte for this long is abandoned; the caller resumes from what it has. */
export const STREAM_IDLE_MS = 60_000;
/** What a stream holds between the device and the caller: what a window of chunks held before. */
const RING_BYTES = TRANSFER_WINDOW * FILE_CHUNK_BYTES;
const TICKET_CHARS = 43;

/** What became of an offered stream, as ninjait_download_streams_total counts it. */
export type StreamOutcome = 'streamed' | 'declined' | 'broken';

const digest = (ticket: string) => createHash('sha256').update(ticket).digest('base64url');

/**
 * Download streams: a device writes a file's range on a connection of its own (protocol in
 * shared `device-streams.ts`) and the server copies it to the caller through a fixed ring
 * (`stream-relay.ts`). Chunk frames on the device's command socket cost the server two fresh
 * buffers per byte (the socket's reads, then `ws` joining them into 1 MiB messages), freed only
 * when V8's collector got round to them; a stream costs one ring per transfer.
 *
 * A stream is only an offer: the device must hold its socket on this instance (the ticket lives
 * here), speak streams, and reach this instance back. Whenever it does not (an older agent
 * refuses the op, its connection lands on another instance or worker, or nothing arrives within
 * STREAM_OPEN_TIMEOUT_MS), `relay` answers 'unavailable' having written nothing, and the caller
 * goes by chunks as before.
 *
 * Admission: a ticket is 32 random bytes, given only to the device asked (on its authenticated
 * socket), good once and only until the device connects or the offer lapses; the server keeps its
 * SHA-256, not the ticket. An upgrade without a ticket that waits here is answered 404 and closed.
 */
export function createDownloadStreams(deps: {
  rpc: { callHere(deviceId: string, op: Extract<RemoteOp, { kind: 'fs.downloadStream' }>): Promise<RemoteResult<'fs.downloadStream'>> };
  log: Logger;
  /** Counts each offer's outcome (ninjait_download_streams_total). */
  outcomes?: { inc(labels: { outcome: StreamOutcome }): void };
}) {
  const count = (outcome: StreamOutcome) => deps.outcomes?.inc({ outcome });
  /** Offers waiting for their device's connection, by the ticket's digest. */
  const offers = new Map<string, (socket: Duplex, head: Buffer) => StreamRelay>();
  const open = new Set<Duplex>();

  /**
   * Copies bytes [offset, offset + length) of the device's file to `into`. 'unavailable': no
   * stream came (nothing was written; go by chunks). 'streamed': every byte was written and
   * `into` ended. Throws when a stream that began broke off, with `into` part written.
   */
  async function relay(request: { deviceId: string; path: string; offset: number; length: number; into: RelayTarget; signal: AbortSignal }): Promise<'streamed' | 'unavailable'> {
    const { deviceId, path, offset, length, signal } = request;
    if (signal.aborted) return 'unavailable';
    const ticket = randomBytes(32).toString('base64url');
    const key = digest(ticket);
    let started: StreamRelay | null = null;
    let settle!: () => void;
    const settled = new Promise<void>((resolve) => (settle = resolve));
    offers.set(key, (socket, head) => {
      started = relayStream({ socket, head, length, into: request.into, ringBytes: RING_BYTES, idleMs: STREAM_IDLE_MS });
      settle();
      return started;
    });
    const timer = setTimeout(settle, STREAM_OPEN_TIMEOUT_MS);
    signal.addEventListener('abort', settle, { once: true });
    // The answer says only that the device opened the stream (or could not): refusals end the wait.
    deps.rpc.callHere(deviceId, { kind: 'fs.downloadStream', path, offset, length, ticket }).catch((error: unknown) => {
      if (!started) deps.log.debug({ err: error, deviceId }, 'the device did not open a download stream; going by chunks');
      settle();
    });
    await settled;
    clearTimeout(timer);
    signal.removeEventListener('abort', settle);
    offers.delete(key);
    const stream = started as StreamRelay | null;
    if (!stream) {
      if (!signal.aborted) count('declined');
      return 'unavailable';
    }
    open.add(stream.socket);
    const abandon = () => stream.socket.destroy();
    signal.addEventListener('abort', abandon, { once: true });
    try {
      await stream.done.catch((error: unknown) => {
        count('broken');
        throw error;
      });
      count('streamed');
      return 'streamed';
    } finally {
      signal.removeEventListener('abort', abandon);
      open.delete(stream.socket);
    }
  }

  /** The `upgrade` listener's part: true when the request was for a stream (answered either way). */
  function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    if (requestTarget(req).path !== DEVICE_STREAM_PATH) return false;
    const ticket = req.headers[DEVICE_STREAM_TICKET_HEADER];
    const key = typeof ticket === 'string' && ticket.length === TICKET_CHARS ? digest(ticket) : null;
    const offer = key ? offers.get(key) : undefined;
    if (!offer || String(req.headers.upgrade).toLowerCase() !== DEVICE_STREAM_PROTOCOL) {
      answerRawSocket(socket, 404);
      return true;
    }
    offers.delete(key!);
    offer(socket, head).socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${DEVICE_STREAM_PROTOCOL}\r\n\r\n`);
    return true;
  }

  return {
    relay,
    upgrade,
    /** Breaks off every stream (the server is closing): their callers resume elsewhere. */
    close() {
      for (const socket of open) socket.destroy();
    },
  };
}
export type DownloadStreams = ReturnType<typeof createDownloadStreams>;
