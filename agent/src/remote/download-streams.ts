import { open, type FileHandle } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { DEVICE_STREAM_PATH, DEVICE_STREAM_PROTOCOL, DEVICE_STREAM_TICKET_HEADER, type RemoteOp, type RemoteResult } from '@ninjait/shared';
import type { ServerTransport } from '../link/server-transport.ts';
import type { Logger } from '../log.ts';
import { RemoteFailure } from './errors.ts';
import { resolvePath, type PathPolicy } from './paths.ts';

type StreamOp = Extract<RemoteOp, { kind: 'fs.downloadStream' }>;
/** Opens a connection of its own to the server for the stream `ticket` admits (ServerTransport.upgrade). */
export type OpenStream = (ticket: string) => Promise<Socket>;

/** How a stream is opened over `transport` (the agent's pinned TLS to its server). */
export const streamOpener = (transport: Pick<ServerTransport, 'upgrade'>): OpenStream =>
  (ticket) => transport.upgrade(DEVICE_STREAM_PATH, DEVICE_STREAM_PROTOCOL, { [DEVICE_STREAM_TICKET_HEADER]: ticket });

/** Streams sent at once; the server asks for chunks instead when a device refuses one. */
export const MAX_STREAMS = 4;
/** A stream reads the file in pieces this size into buffers it reuses... */
const PIECE_BYTES = 256 * 1024;
/** ...of which this many are in the socket at once: 2 MiB per stream, whatever the file's size. */
const PIECES = 8;

/**
 * Sends `length` bytes of `file` from `offset` on `socket` and ends it: fewer when the file ends
 * first (the server sees the stream end short). The file is read into PIECES buffers that are
 * reused once the socket has taken them, so a stream allocates nothing per byte; reading waits
 * while all are in the socket, which is the server's back-pressure reaching the disk.
 */
export async function sendFileRange(file: FileHandle, socket: Socket, offset: number, length: number): Promise<number> {
  const free = Array.from({ length: PIECES }, () => Buffer.allocUnsafeSlow(PIECE_BYTES));
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  const stop = (error: Error) => {
    failure ??= error;
    wake?.();
  };
  const onError = (error: Error) => stop(error);
  const onClose = () => stop(new Error('the server closed the stream'));
  socket.on('error', onError);
  socket.once('close', onClose);
  let sent = 0;
  try {
    while (sent < length) {
      while (free.length === 0 && !failure) await new Promise<void>((resolve) => (wake = resolve));
      if (failure) throw failure;
      const piece = free.pop()!;
      const { bytesRead } = await file.read(piece, 0, Math.min(PIECE_BYTES, length - sent), offset + sent);
      if (bytesRead === 0) break;
      sent += bytesRead;
      socket.write(piece.subarray(0, bytesRead), (error) => {
        if (!error) free.push(piece);
        wake?.();
      });
    }
    if (failure) throw failure;
    await new Promise<void>((resolve, reject) => {
      socket.once('close', () => reject(failure ?? new Error('the server closed the stream')));
      socket.end(resolve);
    });
    return sent;
  } finally {
    socket.off('error', onError);
    socket.off('close', onClose);
  }
}

/**
 * Download streams (protocol in shared `device-streams.ts`): asked by the server with a ticket,
 * the agent checks the file, opens a connection of its own with the ticket, answers that the
 * stream is open, and sends the range in the background. A refusal (no such file, too many
 * streams, a server that cannot be reached back) is the op's answer, and the server goes by
 * chunks instead.
 */
export function createDownloadStreams(opts: { policy: PathPolicy; open: OpenStream; log: Logger }) {
  let running = 0;
  let stopped = false;
  const sockets = new Set<Socket>();
  return {
    async start(op: StreamOp): Promise<RemoteResult<'fs.downloadStream'>> {
      if (stopped) throw new RemoteFailure('CONFLICT', 'the agent is stopping');
      if (running >= MAX_STREAMS) throw new RemoteFailure('CONFLICT', `${MAX_STREAMS} downloads are streaming from this device already`);
      running += 1;
      let file: FileHandle | null = null;
      try {
        const path = await resolvePath(op.path, opts.policy);
        file = await open(path, 'r');
        if (!(await file.stat()).isFile()) throw new RemoteFailure('BAD_REQUEST', `${path} is not a file`);
        const socket = await opts.open(op.ticket);
        // For its whole life: the server may reset it after the send is over (it has what it
        // asked for); the send's own failures are reported through its promise.
        socket.on('error', () => undefined);
        sockets.add(socket);
        const reading = file;
        void sendFileRange(reading, socket, op.offset, op.length).then(
          (sent) => opts.log.debug({ path, offset: op.offset, sent }, 'download stream sent'),
          (error: unknown) => {
            socket.destroy();
            opts.log.warn({ err: error, path, offset: op.offset }, 'a download stream broke off; the server resumes it');
          },
        ).finally(() => {
          sockets.delete(socket);
          running -= 1;
          void reading.close().catch(() => undefined);
        });
        return { streaming: true };
      } catch (error) {
        running -= 1;
        await file?.close().catch(() => undefined);
        throw error;
      }
    },
    /** Breaks off the streams under way (the agent is stopping): the server's callers resume later. */
    stop() {
      stopped = true;
      for (const socket of sockets) socket.destroy();
    },
  };
}
