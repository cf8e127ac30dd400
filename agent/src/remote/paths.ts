import { realpath } from 'node:fs/promises';
import { posix, win32 } from 'node:path';
import { RemoteFailure } from './errors.ts';

/**
 * The lexical form of a path the technician typed: absolute only (no current folder to be
 * relative to), `..` collapsed. On Windows: `C:\x` and `C:/x`, UNC `\\server\share\x`, and the
 * `\\?\` forms; a drive-relative `C:x` or a rooted `\x` without a drive is refused, since what it
 * names depends on the agent's current drive and folder.
 */
export function lexicalPath(raw: string, platform: NodeJS.Platform): string {
  if (raw.includes('\0')) throw new RemoteFailure('BAD_REQUEST', 'A path cannot contain NUL');
  if (platform === 'win32') {
    const value = raw.replace(/\//g, '\\');
    const unc = value.startsWith('\\\\');
    const drive = /^[A-Za-z]:\\/.test(value);
    if (!unc && !drive) throw new RemoteFailure('BAD_REQUEST', `"${raw}" is not a full path: give a drive (C:\\…) or a UNC path (\\\\server\\share\\…)`);
    if (value.startsWith('\\\\.\\')) throw new RemoteFailure('BAD_REQUEST', 'Device paths (\\\\.\\…) are not files');
    return win32.normalize(value);
  }
  if (!raw.startsWith('/')) throw new RemoteFailure('BAD_REQUEST', `"${raw}" is not a full path: start it with /`);
  return posix.normalize(raw);
}

const api = (platform: NodeJS.Platform) => (platform === 'win32' ? win32 : posix);

/** True when `path` is `root` or inside it (compared case-insensitively on Windows and macOS). */
export function isInside(path: string, root: string, platform: NodeJS.Platform): boolean {
  const fold = platform === 'win32' || platform === 'darwin' ? (s: string) => s.toLowerCase() : (s: string) => s;
  const p = fold(path);
  const r = fold(root).replace(/[\\/]+$/, '');
  const sep = api(platform).sep;
  return p === r || p.startsWith(r + sep) || (r === '' && p.startsWith(sep));
}

export interface PathPolicy {
  platform: NodeJS.Platform;
  /** Folders transfers and listings must stay inside (after symlinks are followed); empty: anywhere the agent's account may go. */
  roots: readonly string[];
}

/**
 * Where a path really leads on this device: symlinks followed (for a path that does not exist
 * yet, its folder's), then checked against the allowed roots, so neither `..` nor a symlink leads
 * out of them.
 */
export async function resolvePath(raw: string, policy: PathPolicy, opts: { mayNotExist?: boolean } = {}): Promise<string> {
  const lexical = lexicalPath(raw, policy.platform);
  const p = api(policy.platform);
  let real: string;
  try {
    real = await realpath(lexical);
  } catch (error) {
    if (!opts.mayNotExist || (error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    const parent = await realpath(p.dirname(lexical));
    real = p.join(parent, p.basename(lexical));
  }
  if (policy.roots.length > 0) {
    const roots = await Promise.all(policy.roots.map((root) => realpath(root).catch(() => root)));
    if (!roots.some((root) => isInside(real, root, policy.platform))) {
      throw new RemoteFailure('FORBIDDEN', `${raw} is outside the folders this agent allows (${policy.roots.join(', ')})`);
    }
  }
  return real;
}
