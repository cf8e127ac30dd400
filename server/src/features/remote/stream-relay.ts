import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { readUpgradedSocket } from '../../platform/http/upgraded-reader.ts';

/** Where a relay writes: a response to the caller (`write`'s callback says the bytes left). */
export interface RelayTarget {
  write(chunk: Buffer, done: (error?: Error | null) => void): boolean;
  end(done: () => void): void;
}

export interface StreamRelay {
  /** The device's connection, to answer on and, to abandon the stream, to destroy. */
  socket: Duplex;
  /** Settles when `length` bytes were written to the target (resolved) or the stream broke (rejected). */
  done: Promise<void>;
}

/** Reads are resumed only once this much of the ring is free again, not after every write. */
const RESUME_FRACTION = 4;

/**
 * Relays exactly `length` bytes from a device's upgraded connection to `into` through one ring
 * of `ringBytes`: each read is copied into the ring and written on from there, and reading stops
 * while the ring is full (the caller reads slower than the device sends), which TCP carries back
 * to the device. So a transfer of any size holds `ringBytes` and allocates nothing per byte.
 *
 * The device may send neither more than `length` (the stream is broken off) nor less (a stream
 * that ends early rejects, and the caller's response is cut short, which is how it learns to
 * resume); a stream that moves nothing for `idleMs` is abandoned.
 */
export function relayStream(opts: { socket: Duplex; head: Buffer; length: number; into: RelayTarget; ringBytes: number; idleMs: number }): StreamRelay {
  const { length, into, ringBytes } = opts;
  const ring = Buffer.allocUnsafeSlow(ringBytes);
  let received = 0;
  /** Bytes copied into the ring, and of those, bytes whose write finished (the ring's two ends). */
  let copied = 0;
  let released = 0;
  let paused = false;
  let settled = false;
  let resolveDone!: () => void;
  let rejectDone!: (error: Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });
  // Once settled, whatever the device does (more bytes, its end, silence) only closes its socket.
  const fail = (error: Error) => {
    reader.socket.destroy();
    if (settled) return;
    settled = true;
    rejectDone(error);
  };
  const free = () => ringBytes - (copied - released);

  const send = (chunk: Buffer, ringPart: number) => {
    into.write(chunk, (error) => {
      if (error) return fail(error);
      released += ringPart;
      if (paused && free() >= ringBytes / RESUME_FRACTION) {
        paused = false;
        reader.resume();
      }
    });
  };

  const take = (chunk: Buffer): boolean => {
    if (settled || received + chunk.length > length) {
      fail(new Error(`the device sent more than the ${length} bytes asked for`));
      return false;
    }
    received += chunk.length;
    if (chunk.length > free()) {
      // Only a fallback socket's read can outgrow the ring's free space; it goes as its own copy.
      send(Buffer.from(chunk), 0);
    } else {
      for (let from = 0; from < chunk.length;) {
        const at = copied % ringBytes;
        const part = Math.min(chunk.length - from, ringBytes - at);
        chunk.copy(ring, at, from, from + part);
        copied += part;
        from += part;
        send(ring.subarray(at, at + part), part);
      }
    }
    if (received === length) {
      settled = true;
      into.end(() => resolveDone());
      // Read on: the device's end follows, and then its socket is destroyed.
      reader.socket.end();
      return true;
    }
    paused = free() < ringBytes / RESUME_FRACTION;
    return !paused;
  };

  const reader = readUpgradedSocket(opts.socket, opts.head, {
    bytes: take,
    end: () => fail(new Error(`the device's stream ended after ${received} of ${length} bytes`)),
    close: (error) => fail(error ?? new Error(`the device's stream closed after ${received} of ${length} bytes`)),
  });
  const socket = reader.socket as Socket;
  if (typeof socket.setTimeout === 'function') socket.setTimeout(opts.idleMs, () => fail(new Error(`the device's stream moved nothing for ${opts.idleMs / 1000} s`)));
  return { socket: reader.socket, done };
}
