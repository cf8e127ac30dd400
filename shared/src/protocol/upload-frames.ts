import { FILE_CHUNK_BYTES, MAX_PATH_CHARS, MAX_TRANSFER_BYTES } from '../schemas/remote.ts';
import { CHUNK_FRAME_VERSION } from './chunk-frames.ts';
import { isUuid } from '../util/uuid.ts';

/**
 * An upload chunk as one binary WebSocket frame, from the server to the agent: the mirror of a
 * download chunk frame (`chunk-frames.ts`). JSON carried the chunk as base64 inside an
 * `fs.uploadChunk` op, encoded by the sender, parsed and checked by the server, stringified again
 * and parsed and decoded by the agent; a frame is the bytes behind a fixed header and the path:
 *
 *   byte 0       CHUNK_FRAME_VERSION
 *   byte 1       kind: 2 = an `fs.uploadChunk` request
 *   bytes 2-17   the request's id (a UUID, as its 16 bytes)
 *   bytes 18-25  the chunk's offset in the file (unsigned, big-endian)
 *   bytes 26-41  the transfer's id (a UUID)
 *   bytes 42-43  the path's length in UTF-8 bytes (unsigned, big-endian)
 *   then         the path, then the chunk's bytes (at most FILE_CHUNK_BYTES)
 *
 * The agent answers with `agent.remoteResult` as for a JSON request. A server sends these only
 * to agents that announced UPLOAD_FRAMES_PROTOCOL (older ones would fail on a binary message).
 */
export const UPLOAD_FRAME_KIND = 2;
const FIXED_BYTES = 44;
/** UTF-8 takes at most three bytes for a UTF-16 code unit (four for a pair of them). */
const MAX_PATH_BYTES = MAX_PATH_CHARS * 3;
/** The largest upload frame: a full chunk behind the header and the longest path. */
export const MAX_UPLOAD_FRAME_BYTES = FIXED_BYTES + MAX_PATH_BYTES + FILE_CHUNK_BYTES;

const uuidAt = (frame: Buffer, at: number) => {
  const hex = frame.toString('hex', at, at + 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};

export interface UploadFrame { requestId: string; transferId: string; path: string; offset: number; data: Buffer }

/**
 * The frame for `chunk`, its bytes given as the pieces they arrived in: they are copied once,
 * into the frame, and never turned into text.
 */
export function encodeUploadFrame(chunk: Omit<UploadFrame, 'data'> & { data: readonly Uint8Array[] }): Buffer {
  const { requestId, transferId, path, offset } = chunk;
  if (!isUuid(requestId) || !isUuid(transferId)) throw new RangeError('An upload frame needs UUID request and transfer ids');
  if (!Number.isSafeInteger(offset) || offset < 0 || offset > MAX_TRANSFER_BYTES) throw new RangeError('An upload frame offset is out of range');
  const pathBytes = Buffer.byteLength(path, 'utf8');
  if (pathBytes === 0 || path.length > MAX_PATH_CHARS) throw new RangeError('An upload frame path is empty or too long');
  const dataBytes = chunk.data.reduce((total, piece) => total + piece.length, 0);
  if (dataBytes > FILE_CHUNK_BYTES) throw new RangeError('An upload frame holds at most one chunk');
  const frame = Buffer.allocUnsafe(FIXED_BYTES + pathBytes + dataBytes);
  frame[0] = CHUNK_FRAME_VERSION;
  frame[1] = UPLOAD_FRAME_KIND;
  frame.write(requestId.replaceAll('-', ''), 2, 16, 'hex');
  frame.writeBigUInt64BE(BigInt(offset), 18);
  frame.write(transferId.replaceAll('-', ''), 26, 16, 'hex');
  frame.writeUInt16BE(pathBytes, 42);
  let at = FIXED_BYTES + frame.write(path, FIXED_BYTES, 'utf8');
  for (const piece of chunk.data) {
    frame.set(piece, at);
    at += piece.length;
  }
  return frame;
}

/**
 * Reads a frame from the network: null for anything that is not a well-formed upload frame. The
 * path is still to be checked like any op's (`remoteOps['fs.uploadChunk']`); the data is a view
 * into `frame`, not a copy.
 */
export function decodeUploadFrame(frame: Buffer): UploadFrame | null {
  if (frame.length < FIXED_BYTES || frame.length > MAX_UPLOAD_FRAME_BYTES) return null;
  if (frame[0] !== CHUNK_FRAME_VERSION || frame[1] !== UPLOAD_FRAME_KIND) return null;
  const offset = frame.readBigUInt64BE(18);
  const pathBytes = frame.readUInt16BE(42);
  const dataAt = FIXED_BYTES + pathBytes;
  if (offset > BigInt(MAX_TRANSFER_BYTES) || pathBytes === 0 || pathBytes > MAX_PATH_BYTES || frame.length - dataAt > FILE_CHUNK_BYTES || dataAt > frame.length) return null;
  return {
    requestId: uuidAt(frame, 2), transferId: uuidAt(frame, 26), offset: Number(offset),
    path: frame.toString('utf8', FIXED_BYTES, dataAt), data: frame.subarray(dataAt),
  };
}
