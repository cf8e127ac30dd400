import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Release } from './release.ts';
import type { FetchLike } from '../link/node-fetch.ts';

const run = promisify(execFile);
const DOWNLOAD_TIMEOUT_MS = 10 * 60_000;

/** The download does not match what was signed; it is deleted and never unpacked. */
export class IntegrityError extends Error {
  override readonly name = 'IntegrityError';
}

/**
 * Streams `url` to `<dir>/<file>.part`, hashing as it goes and stopping as soon as it grows
 * past the signed size, then checks size and SHA-256 against the signed release.
 */
export async function downloadVerified(url: URL, release: Release, dir: string, fetchImpl: FetchLike = fetch): Promise<string> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const part = join(dir, `${release.file}.part`);
  const res = await fetchImpl(url, { signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS) });
  if (!res.ok || !res.body) throw new Error(`download of ${url.href} answered ${res.status}`);
  const hash = createHash('sha256');
  let bytes = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      if (bytes > release.size) return done(new IntegrityError(`download is larger than the signed ${release.size} bytes`));
      hash.update(chunk);
      done(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(res.body as WebReadableStream), meter, createWriteStream(part, { mode: 0o600 }));
    if (bytes !== release.size) throw new IntegrityError(`downloaded ${bytes} bytes, the signed size is ${release.size}`);
    const digest = hash.digest('hex');
    if (digest !== release.sha256) throw new IntegrityError(`SHA-256 ${digest} does not match the signed ${release.sha256}`);
  } catch (err) {
    rmSync(part, { force: true });
    throw err;
  }
  const done = join(dir, release.file);
  renameSync(part, done);
  return done;
}

/**
 * Unpacks a verified bundle (tar.gz; `tar` ships with Linux, macOS and Windows 10+) into
 * `<dest>.partial` and renames it into place, so a half-unpacked version is never run.
 */
export async function unpackBundle(archive: string, dest: string): Promise<void> {
  const partial = `${dest}.partial`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true, mode: 0o700 });
  try {
    await run('tar', ['--no-same-owner', '-xzf', archive, '-C', partial], { timeout: DOWNLOAD_TIMEOUT_MS });
    rmSync(dest, { recursive: true, force: true });
    renameSync(partial, dest);
  } catch (err) {
    rmSync(partial, { recursive: true, force: true });
    throw err;
  }
}
