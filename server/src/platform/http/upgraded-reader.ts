import { Socket, type SocketConstructorOpts } from 'node:net';
import type { Duplex } from 'node:stream';

/** What reading an upgraded socket reports. `bytes` is lent for the call only: copy what you keep. */
export interface UpgradedReaderSink {
  /** Return false to stop reading until `resume()`. */
  bytes(chunk: Buffer): boolean;
  /** The peer closed its side (every byte it sent was given to `bytes`). */
  end(): void;
  /** The connection failed or closed before its end. */
  close(error?: Error): void;
}

export interface UpgradedReader {
  /** The connection, to answer on (the `101`) and to destroy. */
  socket: Duplex;
  resume(): void;
  /** True when reads land in one reused buffer; false when Node allocates each (TLS, or a Node that hides the handle). */
  reusesBuffer: boolean;
}

/** One read's worth: what libuv is given to read into. */
const READ_BYTES = 64 * 1024;

interface StreamHandle { readStop(): number; useUserBuffer(buffer: Uint8Array): void; reading?: boolean }
type HandleOwner = { _handle?: StreamHandle | null };

/**
 * Reads an upgraded connection into one buffer it reuses, so a long stream of bytes costs the
 * server no allocation per read. A socket the HTTP server accepted reads into a fresh 64 KiB
 * buffer each time; a relay moving a gigabyte made sixteen thousand of them, which V8 frees only
 * when its collector runs, and it runs on JavaScript allocation rather than on these buffers: the
 * server's memory swung by 60-90 MB during a 1 GiB download. Node reads into a caller's buffer
 * only for a socket built with `onread`, which a server's accepted socket is not, so the accepted
 * connection's handle is moved into such a socket (the HTTP server has let go of it at the
 * upgrade). `_handle` is Node's own field; where it is absent (a TLS socket, whose reads are
 * decrypted into fresh buffers anyway, or another runtime) this falls back to the socket's
 * ordinary reads, correct and merely costlier.
 *
 * Call it from the `upgrade` listener, synchronously: no read may reach the old socket first.
 */
export function readUpgradedSocket(socket: Duplex, head: Buffer, sink: UpgradedReaderSink): UpgradedReader {
  const handle = socket instanceof Socket && !('encrypted' in socket) && socket.readableLength === 0 ? (socket as unknown as HandleOwner)._handle : null;
  const movable = handle && typeof handle.readStop === 'function' && typeof handle.useUserBuffer === 'function';
  let ended = false;
  const finish = (error?: Error) => {
    if (ended) return;
    ended = true;
    sink.close(error);
  };

  if (!movable) {
    socket.on('data', (chunk: Buffer) => {
      if (!sink.bytes(chunk)) socket.pause();
    });
    socket.once('end', () => {
      ended = true;
      sink.end();
    });
    socket.once('error', (error: Error) => finish(error));
    socket.once('close', () => finish());
    if (head.length > 0) socket.unshift(head);
    return { socket, resume: () => void socket.resume(), reusesBuffer: false };
  }

  handle.readStop();
  handle.reading = false;
  (socket as unknown as HandleOwner)._handle = null;
  let paused = false;
  const take = (chunk: Buffer) => {
    if (!sink.bytes(chunk)) paused = true;
  };
  // `handle` is a documented-in-source option Node's typings leave out (net.js takes it as is).
  const raw = new Socket({
    handle,
    onread: {
      buffer: Buffer.allocUnsafeSlow(READ_BYTES),
      callback(bytes: number, buffer: Uint8Array) {
        take(Buffer.from(buffer.buffer, buffer.byteOffset, bytes));
        // False pauses the handle (Node's onread contract); `resume()` starts it again.
        return !paused;
      },
    },
  } as SocketConstructorOpts);
  raw.once('end', () => {
    ended = true;
    sink.end();
  });
  raw.once('error', (error: Error) => finish(error));
  raw.once('close', () => {
    finish();
    // The server counts the accepted socket as open until it closes (server.close waits for it).
    socket.destroy();
  });
  // On the next tick: the caller holds the reader by then. No read comes before it (reads come
  // from the event loop, after ticks).
  if (head.length > 0) process.nextTick(take, head);
  return {
    socket: raw,
    resume() {
      if (!paused) return;
      paused = false;
      raw.resume();
    },
    reusesBuffer: true,
  };
}
