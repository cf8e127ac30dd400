import { createHash, type KeyObject } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { releaseSchema, signRelease, verifyRelease, type Release, type UnsignedRelease } from '@ninjait/agent/update';

/** What the signer states about an artifact besides its name, hash and size. */
export type ReleaseFacts = Pick<Release, 'version' | 'platform' | 'arch' | 'kind'>;

/** SHA-256 of a file, streamed: artifacts are tens of megabytes. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The signed metadata beside `file` in `releasesDir`, or null when absent or unreadable. */
export function readRelease(releasesDir: string, file: string): Release | null {
  try {
    return releaseSchema.parse(JSON.parse(readFileSync(join(releasesDir, `${file}.json`), 'utf8')));
  } catch {
    return null;
  }
}

/** True when `file` is listed, signed by `publicKey`, with the listed size on disk. */
export function isPublishedBy(releasesDir: string, file: string, publicKey: KeyObject, sha256?: string): boolean {
  const release = readRelease(releasesDir, file);
  if (!release || !verifyRelease(release, publicKey) || (sha256 !== undefined && release.sha256 !== sha256)) return false;
  try {
    return statSync(join(releasesDir, file)).size === release.size;
  } catch {
    return false;
  }
}

/**
 * Signs `artifact` and puts it into `releasesDir` as a server lists it: `<file>` and `<file>.json`.
 * Atomic for a server scanning the folder meanwhile: an old listing is withdrawn first, both
 * files are written under hidden temporary names and renamed into place, the metadata last, so
 * a listed file is never half-written. Returns the signed release.
 */
export async function publishRelease(releasesDir: string, artifact: string, facts: ReleaseFacts, privateKey: KeyObject): Promise<Release> {
  const source = resolve(artifact);
  const file = basename(source);
  const unsigned = releaseSchema.omit({ signature: true }).parse({
    ...facts, file, sha256: await sha256File(source), size: statSync(source).size,
  }) as UnsignedRelease;
  const release = signRelease(unsigned, privateKey);
  // Readable by the server's account; a stricter umask (the quick start's) narrows it.
  mkdirSync(releasesDir, { recursive: true, mode: 0o755 });
  const target = join(releasesDir, file);
  const partial = (name: string) => join(releasesDir, `.${name}.partial-${process.pid}`);
  try {
    rmSync(`${target}.json`, { force: true });
    // Streamed rather than copied: the copy takes the folder's umask, not the build output's mode.
    await pipeline(createReadStream(source), createWriteStream(partial(file)));
    renameSync(partial(file), target);
    writeFileSync(partial(`${file}.json`), `${JSON.stringify(release, null, 2)}\n`);
    renameSync(partial(`${file}.json`), `${target}.json`);
  } finally {
    for (const leftover of [partial(file), partial(`${file}.json`)]) if (existsSync(leftover)) rmSync(leftover, { force: true });
  }
  return release;
}
