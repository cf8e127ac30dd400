import { createHash } from 'node:crypto';
import { lstat, mkdir, open, readdir, rename, rm, stat, statfs, truncate } from 'node:fs/promises';
import { posix, win32 } from 'node:path';
import { allocChunkFrame, CHUNK_FRAME_HEADER_BYTES, MAX_LIST_ENTRIES, type RemoteOp, type RemoteResult } from '@ninjait/shared';
import { RemoteFailure } from './errors.ts';
import { resolvePath, type PathPolicy } from './paths.ts';
import { createChunkSequencer } from './chunk-sequencer.ts';
import { createReadHandles } from './read-handles.ts';

type Op<K extends RemoteOp['kind']> = Extract<RemoteOp, { kind: K }>;

/**
 * The SHA-256 of a file, read into one buffer it reuses: a read stream's fresh 1 MiB buffer per
 * read left a thousand of them per GiB for the collector, and the agent's memory swung with them.
 */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  const file = await open(path, 'r');
  try {
    const buffer = Buffer.allocUnsafeSlow(1024 * 1024);
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
    }
  } finally {
    await file.close();
  }
  return hash.digest('hex');
}

/**
 * Files on the device. An upload is written to a hidden partial file beside its target, named by
 * the transfer, so a dropped connection (or a restart of either end) resumes at the partial's
 * size; it becomes the target only when its SHA-256 matches the sender's, and it is removed on a
 * mismatch, a full disk or an abort.
 */
export function createFiles(policy: PathPolicy) {
  const p = policy.platform === 'win32' ? win32 : posix;
  const partialOf = (target: string, transferId: string) => p.join(p.dirname(target), `.${p.basename(target)}.${transferId}.ninjait-part`);
  const target = (path: string) => resolvePath(path, policy, { mayNotExist: true });
  const removeQuietly = (path: string) => rm(path, { force: true }).catch(() => undefined);
  const sequencer = createChunkSequencer(removeQuietly);
  const reading = createReadHandles();

  /** Reads the op's range into `into` at `at`; fewer bytes at the end of the file. */
  async function readRange(op: Op<'fs.downloadChunk'>, into: Buffer, at: number): Promise<Buffer> {
    return reading.withFile(op.path, () => resolvePath(op.path, policy), async (handle) => {
      const { bytesRead } = await handle.read(into, at, op.length, op.offset);
      return into.subarray(at, at + bytesRead);
    });
  }

  async function writeChunk(op: Omit<Op<'fs.uploadChunk'>, 'data'>, data: Buffer): Promise<RemoteResult<'fs.uploadChunk'>> {
    return sequencer.write(partialOf(await target(op.path), op.transferId), op.offset, data);
  }

  /** Refuses a folder as a target, and an existing file unless it may be replaced. */
  async function checkTarget(path: string, overwrite: boolean) {
    const existing = await stat(path).catch(() => null);
    if (existing?.isDirectory()) throw new RemoteFailure('BAD_REQUEST', `${path} is a folder: name the file to write`);
    if (existing && !overwrite) throw new RemoteFailure('CONFLICT', `${path} exists; allow overwriting to replace it`);
  }

  return {
    async list(op: Op<'fs.list'>): Promise<RemoteResult<'fs.list'>> {
      const path = await resolvePath(op.path, policy);
      const dirents = await readdir(path, { withFileTypes: true });
      const shown = dirents.slice(0, MAX_LIST_ENTRIES);
      const entries = await Promise.all(shown.map(async (d) => {
        const info = await lstat(p.join(path, d.name)).catch(() => null);
        const type = d.isSymbolicLink() ? 'link' : d.isDirectory() ? 'dir' : d.isFile() ? 'file' : 'other';
        return { name: d.name, type, size: info && d.isFile() ? info.size : null, mtimeMs: info ? Math.trunc(info.mtimeMs) : null, mode: info ? info.mode & 0o7777 : null } as const;
      }));
      entries.sort((a, b) => Number(b.type === 'dir') - Number(a.type === 'dir') || a.name.localeCompare(b.name));
      return { path, entries, omitted: dirents.length - shown.length };
    },

    /**
     * Creates one folder whose parent exists (resolved like any target, so no `..` or symlink
     * leads out of the allowed roots); an existing folder is fine, an existing file is not.
     */
    async mkdir(op: Op<'fs.mkdir'>): Promise<RemoteResult<'fs.mkdir'>> {
      const path = await target(op.path);
      try {
        await mkdir(path);
        return { path, created: true };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const existing = await lstat(path);
        if (!existing.isDirectory()) throw new RemoteFailure('CONFLICT', `${path} exists and is not a folder`);
        return { path, created: false };
      }
    },

    /** Starts (or resumes) an upload: the partial file's size is where the sender continues. */
    async uploadBegin(op: Op<'fs.uploadBegin'>): Promise<RemoteResult<'fs.uploadBegin'>> {
      const path = await target(op.path);
      await checkTarget(path, op.overwrite);
      const partial = partialOf(path, op.transferId);
      // Chunks parked from before the connection dropped belong to a sender that is starting over.
      sequencer.forget(partial);
      const handle = await open(partial, 'a', 0o600);
      const { size } = await handle.stat();
      await handle.close();
      if (size > op.size) {
        await truncate(partial, 0);
        return { path, offset: 0 };
      }
      const fs = await statfs(p.dirname(path)).catch(() => null);
      const free = fs ? fs.bavail * fs.bsize : Infinity;
      if (op.size - size > free) {
        await removeQuietly(partial);
        throw new RemoteFailure('ENOSPC', `Not enough space on the device for ${path}: ${op.size - size} bytes needed, ${free} free (ENOSPC)`);
      }
      return { path, offset: size };
    },

    /**
     * Writes one chunk at `offset`. Senders keep several chunks in flight and the relay may
     * reorder them, so a chunk just ahead of the partial's end waits (bounded) for the ones before
     * it: the partial file only ever grows contiguously, which is what resuming relies on, and an
     * acknowledged chunk means every byte before it is written. A chunk sent again (its ack was
     * lost) rewrites in place; one too far ahead is refused with where to continue.
     */
    uploadChunk: (op: Op<'fs.uploadChunk'>) => writeChunk(op, Buffer.from(op.data, 'base64')),

    /** The same, the bytes as they came in a binary frame (`upload-frames.ts`). */
    uploadChunkBytes: writeChunk,

    /** Checks size and SHA-256, then moves the partial into place; on a mismatch the partial is removed. */
    async uploadFinish(op: Op<'fs.uploadFinish'>): Promise<RemoteResult<'fs.uploadFinish'>> {
      const path = await target(op.path);
      const partial = partialOf(path, op.transferId);
      const info = await stat(partial).catch(() => null);
      if (!info) throw new RemoteFailure('NOT_FOUND', 'The upload was not begun, or was aborted: begin it again');
      if (info.size !== op.size) throw new RemoteFailure('CONFLICT', `The device has ${info.size} of ${op.size} bytes of this upload; continue from there`);
      const sha256 = await sha256File(partial);
      if (sha256 !== op.sha256) {
        await removeQuietly(partial);
        throw new RemoteFailure('FAILED', `SHA-256 mismatch: sent ${op.sha256}, the device wrote ${sha256}; the partial file was removed`);
      }
      await checkTarget(path, op.overwrite);
      await rename(partial, path);
      return { path, size: info.size, sha256 };
    },

    async uploadAbort(op: Op<'fs.uploadAbort'>): Promise<RemoteResult<'fs.uploadAbort'>> {
      const partial = partialOf(await target(op.path), op.transferId);
      sequencer.forget(partial);
      const existed = await stat(partial).then(() => true, () => false);
      await removeQuietly(partial);
      return { removed: existed };
    },

    /** Size and SHA-256 first, so the receiver can check what it got. */
    async downloadBegin(op: Op<'fs.downloadBegin'>): Promise<RemoteResult<'fs.downloadBegin'>> {
      // Chunks read what is at the path now, not a file replaced since a previous download.
      reading.forget(op.path);
      const path = await resolvePath(op.path, policy);
      reading.forget(path);
      const info = await stat(path);
      if (!info.isFile()) throw new RemoteFailure('BAD_REQUEST', `${path} is not a file`);
      return { path, size: info.size, sha256: await sha256File(path), mtimeMs: Math.trunc(info.mtimeMs) };
    },

    async downloadChunk(op: Op<'fs.downloadChunk'>): Promise<RemoteResult<'fs.downloadChunk'>> {
      const data = await readRange(op, Buffer.alloc(op.length), 0);
      return { offset: op.offset, data: data.toString('base64') };
    },

    /**
     * The same chunk as a binary frame answering `requestId`: the file is read straight into the
     * frame behind its header, so the bytes are not copied (nor turned into base64) on the agent.
     */
    async downloadChunkFrame(requestId: string, op: Op<'fs.downloadChunk'>): Promise<Buffer> {
      const frame = allocChunkFrame(requestId, op.offset, op.length);
      const data = await readRange(op, frame, CHUNK_FRAME_HEADER_BYTES);
      return frame.subarray(0, CHUNK_FRAME_HEADER_BYTES + data.length);
    },
  };
}
