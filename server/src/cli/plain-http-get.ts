import { connect } from 'node:net';

/** The most one read takes from the socket, and the size of the pieces handed out. */
const PIECE_BYTES = 1024 * 1024;
/** Pieces in memory at once: one with the reader, one full and waiting, one being filled. */
const POOL_PIECES = 3;
/** A response head longer than this is not the server's. */
const MAX_HEAD_BYTES = 64 * 1024;
/** The most of a refusal's body kept: a JSON error, never a file. */
const MAX_REFUSAL_BYTES = 64 * 1024;

export interface PlainResponse {
  status: number;
  /** Header names in lower case. */
  headers: ReadonlyMap<string, string>;
  /**
   * The body in pieces of up to 1 MiB. A piece is the reader's only until it asks for the next
   * one: its memory is then filled again. Fails (ending the iteration) if the connection ends
   * before content-length bytes arrived.
   */
  body: AsyncIterable<Uint8Array>;
  /** A refusal's body as text (at most 64 KiB). */
  text(): Promise<string>;
  destroy(): void;
}

interface Slot { memory: Buffer; filled: number }

/**
 * A GET over plain HTTP/1.1 whose body is read into a few reused 1 MiB buffers. Read through
 * node:http, each 64 KiB a socket read was a fresh buffer handed through the parser, a stream
 * and an async iterator: for a 1 GiB download the CLI spent more CPU on that (and on collecting
 * the garbage) than the server on serving it. Here the socket reads into one buffer up to 1 MiB
 * at a time (`onread`), the bytes are copied into a free piece (a memcpy, far cheaper than the
 * allocations it replaces), and the socket is paused while no piece is free: the reader's pace
 * is the back-pressure, as before. Only what a streamed download needs: one request per
 * connection (`connection: close`), a body of content-length bytes (or, for a refusal, until
 * the connection closes).
 */
export function plainHttpGet(url: URL, headers: Record<string, string>): Promise<PlainResponse> {
  if (url.protocol !== 'http:') throw new Error(`plainHttpGet speaks http: only, not ${url.protocol}`);
  const readInto = Buffer.allocUnsafe(PIECE_BYTES);
  const free: Buffer[] = [];
  let pooled = 0;
  const ready: Slot[] = [];
  let filling: Slot | null = null;
  let lent: Slot | null = null;
  /** Bytes read while no piece was free: the socket is paused until the reader frees one. */
  let leftover: Buffer | null = null;
  let head: Buffer | null = Buffer.alloc(0);
  let remaining = Infinity;
  let ended = false;
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  const notify = () => {
    wake?.();
    wake = null;
  };

  return new Promise((resolve, reject) => {
    let response: PlainResponse;
    const finish = (error: Error | null) => {
      if (ended || failure) return;
      // What arrived is handed out first: whatever the reader writes is kept on a resume.
      if (filling && filling.filled > 0) ready.push(filling);
      filling = null;
      if (error) failure = error;
      else ended = true;
      socket.destroy();
      notify();
      if (head) reject(error ?? new Error('The server closed the connection without answering'));
    };

    /** Copies `data` into pieces; false (pause the socket) when no piece is free for the rest. */
    function take(data: Buffer): boolean {
      while (data.length > 0 && remaining > 0) {
        if (!filling) {
          const memory = free.pop() ?? (pooled < POOL_PIECES ? (pooled++, Buffer.allocUnsafe(PIECE_BYTES)) : null);
          if (!memory) {
            leftover = data;
            return false;
          }
          filling = { memory, filled: 0 };
        }
        const n = Math.min(data.length, PIECE_BYTES - filling.filled, remaining);
        data.copy(filling.memory, filling.filled, 0, n);
        filling.filled += n;
        remaining -= n;
        data = data.subarray(n);
        if (filling.filled === PIECE_BYTES) {
          ready.push(filling);
          filling = null;
          notify();
        }
      }
      if (remaining === 0) finish(null);
      return true;
    }

    function onHead(data: Buffer): Buffer | null {
      head = Buffer.concat([head!, data]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > MAX_HEAD_BYTES) finish(new Error('The server\'s answer has no end of headers'));
        return null;
      }
      const [statusLine, ...lines] = head.toString('latin1', 0, end).split('\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1]);
      const fields = new Map(lines.map((line) => {
        const colon = line.indexOf(':');
        return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()] as const;
      }));
      const length = fields.get('content-length');
      // A refusal may come chunked (it is read to the end and de-chunked); a body, never.
      if (!Number.isInteger(status) || (status === 200 && (length === undefined || fields.has('transfer-encoding')))) {
        finish(new Error('The server\'s answer is not a plain HTTP body (is it older than this CLI?)'));
        return null;
      }
      const rest = head.subarray(end + 4);
      head = null;
      remaining = length === undefined ? Infinity : Number(length);
      response = { status, headers: fields, body: { [Symbol.asyncIterator]: pieces }, text, destroy: () => finish(new Error('destroyed')) };
      resolve(response);
      return rest;
    }

    async function* pieces(): AsyncGenerator<Uint8Array> {
      try {
        for (;;) {
          if (lent) {
            free.push(lent.memory);
            lent = null;
            if (leftover) {
              const rest = leftover;
              leftover = null;
              if (take(rest) && !ended && !failure) socket.resume();
            }
          }
          const next = ready.shift();
          if (next) {
            lent = next;
            yield next.memory.subarray(0, next.filled);
            continue;
          }
          if (failure) throw failure;
          if (ended) return;
          await new Promise<void>((resume) => (wake = resume));
        }
      } finally {
        finish(failure ?? null);
      }
    }

    async function text(): Promise<string> {
      const parts: Buffer[] = [];
      let bytes = 0;
      for await (const piece of pieces()) {
        parts.push(Buffer.from(piece));
        if ((bytes += piece.length) > MAX_REFUSAL_BYTES) break;
      }
      const raw = Buffer.concat(parts).subarray(0, MAX_REFUSAL_BYTES);
      return (response.headers.get('transfer-encoding') === 'chunked' ? dechunk(raw) : raw).toString('utf8');
    }

    const socket = connect({
      host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(url.port || 80),
      onread: {
        buffer: readInto,
        callback(bytes: number, buffer: Uint8Array) {
          let data: Buffer | null = Buffer.from(buffer.buffer, buffer.byteOffset, bytes);
          if (head) data = onHead(data);
          return data ? take(data) : true;
        },
      },
    });
    socket.once('connect', () => socket.write(`GET ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}connection: close\r\n\r\n`));
    socket.once('error', (error) => finish(error));
    // A close before content-length bytes is a cut-off body; a refusal without a length ends here.
    socket.once('close', () => finish(remaining === Infinity ? null : new Error(`The connection closed with ${remaining} bytes of the body still to come`)));
  });
}

/** A chunked body's data (`size CRLF data CRLF … 0 CRLF CRLF`), as far as it is complete. */
function dechunk(raw: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let at = 0; ;) {
    const lineEnd = raw.indexOf('\r\n', at);
    const size = lineEnd < 0 ? 0 : parseInt(raw.toString('latin1', at, lineEnd), 16);
    if (!(size > 0)) return Buffer.concat(parts);
    parts.push(raw.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}
