/**
 * Moves `[from, size)` in chunks with up to `window` of them in flight, handing each answer to
 * `receive` in offset order. One round trip per chunk made a transfer as slow as its latency
 * (8 MB took 85 s); a window keeps the pipe full while memory stays bounded at `window` chunks.
 * In-order delivery means whatever `receive` persisted is always a contiguous prefix, which is
 * what resuming after a dropped connection relies on. On the first failure no new chunk is sent,
 * the chunks in flight are aborted (their `signal`) and the failure is thrown at once.
 */
export async function pumpChunks<T>(opts: {
  from: number;
  size: number;
  chunkBytes: number;
  window: number;
  /** Sends one chunk; `signal` aborts when the pump gives up, so a request still in flight lets go of its connection. */
  send: (offset: number, length: number, signal: AbortSignal) => Promise<T>;
  receive: (value: T, offset: number, length: number) => Promise<void> | void;
  signal?: AbortSignal;
}): Promise<void> {
  const inFlight: { offset: number; length: number; answer: Promise<T> }[] = [];
  const givenUp = new AbortController();
  let next = opts.from;
  const fill = () => {
    while (inFlight.length < opts.window && next < opts.size) {
      const length = Math.min(opts.chunkBytes, opts.size - next);
      const answer = opts.send(next, length, givenUp.signal);
      // Observed at once, so a failure behind the head is not reported as unhandled.
      answer.catch(() => undefined);
      inFlight.push({ offset: next, length, answer });
      next += length;
    }
  };
  // A failure is thrown at once, without waiting for the chunks still in flight: after a dropped
  // connection those behind a lost one are parked by the receiver until it times out (20 s), and
  // the sender's resume (which makes the receiver drop them) would wait for nothing. They are
  // aborted too: each holds a connection, and a browser has six per server (a client pool as
  // many as the window), so the resume's own requests would queue behind them for those 20 s.
  // Their answers are already observed; a late one rewrites the same bytes at the same offset.
  try {
    fill();
    while (inFlight.length > 0) {
      opts.signal?.throwIfAborted();
      const head = inFlight[0]!;
      await opts.receive(await head.answer, head.offset, head.length);
      inFlight.shift();
      fill();
    }
  } catch (error) {
    givenUp.abort(error);
    throw error;
  }
}

/**
 * Wraps `fn` so each call starts in its own macrotask, after the previous call's. tRPC's
 * WebSocket and HTTP batch links send every call made within one timer tick as one message, and
 * a window of 1 MiB chunks in one message would exceed the server's 4 MB bound (the socket is
 * closed); spaced like this, the link's flush timer (queued first) sends each chunk alone.
 */
export function oneCallPerTick<F extends (...args: never[]) => Promise<unknown>>(fn: F): F {
  let gate: Promise<void> = Promise.resolve();
  return ((...args: Parameters<F>) => {
    const result = gate.then(() => fn(...args));
    gate = gate.then(() => new Promise<void>((resolve) => setTimeout(resolve, 0)));
    return result;
  }) as F;
}
