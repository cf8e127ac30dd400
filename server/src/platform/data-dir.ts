import { chmodSync, closeSync, constants, fchmodSync, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, realpathSync, type Stats } from 'node:fs';
import { homedir } from 'node:os';
import { join, parse } from 'node:path';
import type { Logger } from './obs/logger.ts';

/** Everything the server writes is for its own account only: keys, credentials, databases. */
export const PRIVATE_UMASK = 0o077;
const PRIVATE_DIR_MODE = 0o700;
const OWNER_READ_WRITE = 0o600;

export interface SecuredDataDir {
  /** The folder, resolved. */
  dir: string;
  /** Entries whose mode was narrowed (an install from before this check, or a hand-made file). */
  fixed: number;
  /** Entries owned by another account (a release an admin dropped in): not ours to change. */
  foreign: number;
}

/**
 * Makes every file the process creates from now on owner-only, whatever the service manager's
 * umask was (chdb and SQLite take theirs from it). Call once at the start of a server process.
 */
export function restrictUmask(): void {
  if (process.platform !== 'win32') process.umask(PRIVATE_UMASK);
}

/**
 * What `serve` and `start` do before anything opens a store: owner-only from the first write,
 * and an install from before that brought to the same, said once in the log.
 */
export function makeDataDirPrivate(dataDir: string, log: Logger): SecuredDataDir {
  restrictUmask();
  const secured = secureDataDir(dataDir);
  if (secured.fixed > 0) {
    log.warn({ dataDir: secured.dir, fixed: secured.fixed }, 'DATA_DIR had files other local accounts could read or change; they are now private to this account');
  }
  if (secured.foreign > 0) log.info({ dataDir: secured.dir, foreign: secured.foreign }, 'DATA_DIR holds files of another account; left as they are');
  return secured;
}

/**
 * Creates DATA_DIR as 0700 and takes group and other bits off everything already in it: folders
 * become 0700, files keep their owner bits (at least read and write). Symbolic links are
 * neither followed nor changed (chdb links within its own tree; the targets are walked where
 * they are), so a link can never make the server chmod something outside the folder; each
 * entry is re-checked through an O_NOFOLLOW handle before it is changed. Entries another account
 * owns are left alone. Refuses a DATA_DIR that is a filesystem root or the home folder, which
 * would otherwise be locked down with everything in them.
 */
export function secureDataDir(dataDir: string): SecuredDataDir {
  mkdirSync(dataDir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const dir = realpathSync(dataDir);
  if (dir === parse(dir).root || dir === realpathOrSelf(homedir())) {
    throw new Error(`DATA_DIR=${dataDir} is ${dir === parse(dir).root ? 'a filesystem root' : 'the home folder'}: give the server a folder of its own (e.g. ./data)`);
  }
  const result: SecuredDataDir = { dir, fixed: 0, foreign: 0 };
  if (process.platform === 'win32') return result;
  const uid = process.getuid?.();
  const narrow = (path: string, stats: Stats) => {
    if (uid !== undefined && stats.uid !== uid) {
      result.foreign++;
      return;
    }
    const mode = stats.isDirectory() ? PRIVATE_DIR_MODE : (stats.mode & 0o700) | OWNER_READ_WRITE;
    if ((stats.mode & 0o777) === mode) return;
    if (chmodNoFollow(path, stats, mode)) result.fixed++;
  };

  narrow(dir, lstatSync(dir));
  const pending = [dir];
  for (let folder = pending.pop(); folder !== undefined; folder = pending.pop()) {
    for (const name of readdirOrEmpty(folder)) {
      const path = join(folder, name);
      const stats = lstatOrNull(path);
      // Links are skipped, and so are sockets, FIFOs and devices: the server makes none of them.
      if (!stats || !(stats.isDirectory() || stats.isFile())) continue;
      narrow(path, stats);
      if (stats.isDirectory()) pending.push(path);
    }
  }
  return result;
}

/**
 * Changes the mode of the entry `stats` describes, refusing if it was swapped for a link since.
 * False when the entry was removed meanwhile.
 */
function chmodNoFollow(path: string, stats: Stats, mode: number): boolean {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return false;
    // A file its owner cannot read (mode 0o0xx): no handle to take, so check the entry again.
    if (code !== 'EACCES') throw error;
    const again = lstatOrNull(path);
    if (!again) return false;
    if (again.isSymbolicLink() || again.ino !== stats.ino) throw new Error(`${path} changed while DATA_DIR was being secured`);
    chmodSync(path, mode);
    return true;
  }
  try {
    const opened = fstatSync(fd);
    if (opened.ino !== stats.ino || opened.dev !== stats.dev) throw new Error(`${path} changed while DATA_DIR was being secured`);
    fchmodSync(fd, mode);
    return true;
  } finally {
    closeSync(fd);
  }
}

/**
 * `read()`'s answer, or `gone` when the entry was removed between listing and looking (a database
 * file rotated, a chdb part folder renamed or merged away): nothing there to secure.
 */
function unlessRemoved<T>(read: () => T, gone: T): T {
  try {
    return read();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return gone;
    throw error;
  }
}

const lstatOrNull = (path: string): Stats | null => unlessRemoved(() => lstatSync(path), null);
const readdirOrEmpty = (folder: string): string[] => unlessRemoved(() => readdirSync(folder), []);

function realpathOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
