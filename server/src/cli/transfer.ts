import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { FILE_CHUNK_BYTES, TRANSFER_WINDOW, isDroppedConnection, oneCallPerTick, pumpChunks, withResume, withRetries, type RemoteOp, type RemoteOpKind, type RemoteResult } from '@ninjait/shared';

/** One remote-access request to the device, however the caller reaches the server. */
export type RemoteCall = <K extends RemoteOpKind>(op: Extract<RemoteOp, { kind: K }>) => Promise<RemoteResult<K>>;

/**
 * Bytes [from, size) of a device's file as one stream (the server's streamed download): what the
 * CLI reads a download with, where the console (and tests) read it chunk by chunk with `RemoteCall`.
 * A piece may be the source's reused memory: it is the reader's only until it asks for the next.
 */
export type ByteSource = (path: string, from: number, size: number) => Promise<AsyncIterable<Uint8Array>>;

/**
 * Sends one upload chunk's bytes as they are (the server's upload route): what the CLI uploads
 * with, where tests may send chunks as `fs.uploadChunk` calls with `RemoteCall`. `size` is the
 * file's, which bounds the chunk on the server.
 */
/** Sends one upload chunk; `signal` aborts it when the copy gives up on the chunks in flight. */
export type ChunkSink = (chunk: { transferId: string; path: string; offset: number; size: number; data: Buffer; signal?: AbortSignal }) => Promise<{ offset: number }>;

export interface TransferOptions {
  onProgress?: (done: number, total: number) => void;
  /** Attempts per step when the connection drops or the device is briefly away (default 5). */
  attempts?: number;
  retryDelayMs?: number;
}

/**
 * The same file to the same place is the same transfer, so running the copy again after it was
 * cut off continues the device's partial file instead of starting over (a UUID v4 in form).
 */
export function transferIdOf(sha256: string, remotePath: string): string {
  const h = createHash('sha256').update(`${sha256}\0${remotePath}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Uploads a local file in 1 MiB chunks, TRANSFER_WINDOW of them in flight (memory stays at the
 * window whatever the size): as HTTP bodies with `chunks`, else as chunk calls. After a dropped connection it asks the device where its partial
 * file ends and continues there; the device keeps the file only if its SHA-256 matches this
 * one's, and a failure that is not a dropped connection removes the partial file.
 */
export async function uploadFile(call: RemoteCall, localPath: string, remotePath: string, opts: TransferOptions & { overwrite?: boolean; transferId?: string; chunks?: ChunkSink } = {}) {
  const { size } = await stat(localPath);
  const sha256 = await sha256OfFile(localPath);
  const transferId = opts.transferId ?? transferIdOf(sha256, remotePath);
  const overwrite = opts.overwrite ?? false;
  const file = await open(localPath, 'r');
  const chunkCall = oneCallPerTick(call);
  const sink = opts.chunks;
  try {
    await withResume(opts, async () => (await call({ kind: 'fs.uploadBegin', transferId, path: remotePath, size, overwrite })).offset, async (from) => {
      opts.onProgress?.(from, size);
      await pumpChunks({
        from, size, chunkBytes: FILE_CHUNK_BYTES, window: TRANSFER_WINDOW,
        async send(offset, length, signal) {
          const buffer = Buffer.alloc(length);
          await file.read(buffer, 0, length, offset);
          if (sink) return sink({ transferId, path: remotePath, offset, size, data: buffer, signal });
          return chunkCall({ kind: 'fs.uploadChunk', transferId, path: remotePath, offset, data: buffer.toString('base64') });
        },
        receive: (ack) => opts.onProgress?.(ack.offset, size),
      });
    });
    return await withRetries(opts, () => call({ kind: 'fs.uploadFinish', transferId, path: remotePath, size, sha256, overwrite }));
  } catch (error) {
    if (!isDroppedConnection(error)) await call({ kind: 'fs.uploadAbort', transferId, path: remotePath }).catch(() => undefined);
    throw error;
  } finally {
    await file.close();
  }
}

/**
 * The SHA-256 of a file being written in order, kept up to date as it grows: the received bytes
 * are hashed as they are written, so the check at the end does not read the file back (for
 * 1 GiB, seconds after the last byte). A resume from elsewhere than where the hash is (a partial
 * left by an earlier run) hashes the file's first bytes from disk once.
 */
function growingHash(path: string) {
  let hash = createHash('sha256');
  let at = 0;
  return {
    async continueAt(offset: number) {
      if (offset === at) return;
      hash = createHash('sha256');
      at = 0;
      if (offset > 0) for await (const piece of createReadStream(path, { start: 0, end: offset - 1, highWaterMark: 1024 * 1024 })) hash.update(piece as Buffer);
      at = offset;
    },
    /** Bytes just written at the hash's end. */
    add(pieces: readonly Uint8Array[], bytes: number) {
      for (const piece of pieces) hash.update(piece);
      at += bytes;
    },
    /** The file's SHA-256 once it is `size` bytes long; null when the hash did not follow it there. */
    digestAt: (size: number) => (at === size ? hash.digest('hex') : null),
  };
}

/**
 * Downloads a device's file into `<local>.<hash>.part`, written in order so the partial is
 * always a prefix; then renames it once its SHA-256 equals the one the device computed. With
 * `stream` the bytes come as one HTTP body (binary frames from the device, back-pressured by the
 * server's window); without it in 1 MiB chunk calls, TRANSFER_WINDOW in flight. A partial from
 * an interrupted run of the same file (same hash) is resumed from its size, as is a transfer
 * cut off by a dropped connection; a mismatch removes it.
 */
export async function downloadFile(call: RemoteCall, remotePath: string, localPath: string, opts: TransferOptions & { stream?: ByteSource } = {}) {
  const begun = await withRetries(opts, () => call({ kind: 'fs.downloadBegin', path: remotePath }));
  const partial = `${localPath}.${begun.sha256.slice(0, 16)}.part`;
  const have = await stat(partial).then((s) => s.size, () => 0);
  const file = await open(partial, have > 0 && have <= begun.size ? 'r+' : 'w', 0o600);
  let written = have > 0 && have <= begun.size ? have : 0;
  const chunkCall = oneCallPerTick(call);
  const stream = opts.stream;
  const hash = growingHash(partial);
  try {
    await withResume(opts, async () => written, async (from) => {
      await hash.continueAt(from);
      opts.onProgress?.(from, begun.size);
      if (stream) {
        // A piece is this side's only until the next is asked for (the source reuses its memory,
        // see ByteSource): written and hashed before that. Pieces are about a chunk (1 MiB).
        for await (const piece of await stream(begun.path, from, begun.size)) {
          await file.write(piece, 0, piece.length, written);
          hash.add([piece], piece.length);
          written += piece.length;
          opts.onProgress?.(written, begun.size);
        }
        // The body ended early (the file shrank on the device): resumed, then refused by the hash.
        if (written !== begun.size) throw new Error(`${begun.path} ended at ${written} of ${begun.size} bytes`);
        return;
      }
      await pumpChunks({
        from, size: begun.size, chunkBytes: FILE_CHUNK_BYTES, window: TRANSFER_WINDOW,
        send: (offset, length) => chunkCall({ kind: 'fs.downloadChunk', path: begun.path, offset, length }),
        async receive(chunk, offset, length) {
          const data = Buffer.from(chunk.data, 'base64');
          if (data.length !== length) throw new Error(`${begun.path} changed size on the device while downloading; try again`);
          await file.write(data, 0, data.length, offset);
          hash.add([data], data.length);
          written = offset + data.length;
          opts.onProgress?.(written, begun.size);
        },
      });
    });
  } finally {
    await file.close();
  }
  const sha256 = hash.digestAt(begun.size) ?? await sha256OfFile(partial);
  if (sha256 !== begun.sha256) {
    await rm(partial, { force: true });
    throw new Error(`SHA-256 mismatch: the device has ${begun.sha256}, received ${sha256} (the file changed while downloading?); the partial file was removed`);
  }
  await rename(partial, localPath);
  return { path: begun.path, size: begun.size, sha256 };
}
