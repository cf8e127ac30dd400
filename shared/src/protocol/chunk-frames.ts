import { FILE_CHUNK_BYTES, MAX_TRANSFER_BYTES } from '../schemas/remote.ts';
import { isUuid } from '../util/uuid.ts';

/**
 * A download chunk as one binary WebSocket frame, from the agent to the server. JSON carried a
 * 1 MiB chunk as a 1.4 MB base64 string, copied several times on each side (encode, stringify,
 * parse, check, decode); a frame is the file's bytes behind a fixed header:
 *
 *   byte 0       CHUNK_FRAME_VERSION
 *   byte 1       kind: 1 = the answer to an `fs.downloadChunk` request
 *   bytes 2-17   the request's id (a UUID, as its 16 bytes)
 *   bytes 18-25  the chunk's offset in the file (unsigned, big-endian)
 *   bytes 26-    the bytes read there (at most FILE_CHUNK_BYTES; fewer at the end of the file)
 *
 * Negotiated per request: the server offers it by sending `answer: 'binary'` beside the op
 * (agents that do not know the field ignore it and answer JSON, which the server still takes),
 * and an agent sends a frame only when offered, so an older server never receives one.
 */
export const CHUNK_FRAME_VERSION = 1;
export const CHUNK_FRAME_KIND_DOWNLOAD = 1;
export const CHUNK_FRAME_HEADER_BYTES = 26;
/** The largest frame a server takes: a full chunk behind the header. */
export const MAX_CHUNK_FRAME_BYTES = CHUNK_FRAME_HEADER_BYTES + FILE_CHUNK_BYTES;

export interface ChunkFrame { requestId: string; offset: number; data: Buffer }

/**
 * A frame of `dataBytes` bytes with its header written: the caller reads the file straight into
 * `frame.subarray(CHUNK_FRAME_HEADER_BYTES)`, so the chunk is never copied on the agent.
 */
export function allocChunkFrame(requestId: string, offset: number, dataBytes: number): Buffer {
  if (!isUuid(requestId)) throw new RangeError('A chunk frame needs a UUID request id');
  if (!Number.isSafeInteger(offset) || offset < 0 || offset > MAX_TRANSFER_BYTES) throw new RangeError('A chunk frame offset is out of range');
  if (!Number.isSafeInteger(dataBytes) || dataBytes < 0 || dataBytes > FILE_CHUNK_BYTES) throw new RangeError('A chunk frame holds at most one chunk');
  const frame = Buffer.allocUnsafe(CHUNK_FRAME_HEADER_BYTES + dataBytes);
  frame[0] = CHUNK_FRAME_VERSION;
  frame[1] = CHUNK_FRAME_KIND_DOWNLOAD;
  frame.write(requestId.replaceAll('-', ''), 2, 16, 'hex');
  frame.writeBigUInt64BE(BigInt(offset), 18);
  return frame;
}

/**
 * Reads a frame from the network: null for anything that is not a well-formed chunk frame
 * (too short or too long, another version or kind, an offset past the transfer limit). The data
 * is a view into `frame`, not a copy.
 */
export function decodeChunkFrame(frame: Buffer): ChunkFrame | null {
  if (frame.length < CHUNK_FRAME_HEADER_BYTES || frame.length > MAX_CHUNK_FRAME_BYTES) return null;
  if (frame[0] !== CHUNK_FRAME_VERSION || frame[1] !== CHUNK_FRAME_KIND_DOWNLOAD) return null;
  const offset = frame.readBigUInt64BE(18);
  if (offset > BigInt(MAX_TRANSFER_BYTES)) return null;
  const hex = frame.toString('hex', 2, 18);
  const requestId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return { requestId, offset: Number(offset), data: frame.subarray(CHUNK_FRAME_HEADER_BYTES) };
}
