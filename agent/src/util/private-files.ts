import { chmodSync, closeSync, fsyncSync, lstatSync, mkdirSync, openSync, renameSync, rmSync, writeSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';

/** The agent's files hold its device secret and buffered data: its own account only. */
export const PRIVATE_UMASK = 0o077;
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Makes every file the process creates from now on owner-only, whatever the service manager's
 * umask (SQLite's and tar's files follow it). Call once at the start of an agent process.
 */
export function restrictUmask(): void {
  if (process.platform !== 'win32') process.umask(PRIVATE_UMASK);
}

/** Creates `dir` (and missing parents) 0700, and narrows an existing one this account owns. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  narrow(dir, PRIVATE_DIR_MODE);
}

/**
 * Narrows `file` to 0600 if it exists; with `create`, first creates it empty as 0600. A SQLite
 * database created that way gives its -wal and -shm files the same mode (SQLite copies it).
 */
export function ensurePrivateFile(file: string, opts: { create?: boolean } = {}): void {
  if (opts.create) closeSync(openSync(file, 'a', PRIVATE_FILE_MODE));
  narrow(file, PRIVATE_FILE_MODE);
}

/** SQLite's companions of a database file. */
const SQLITE_SIDE_FILES = ['-wal', '-shm', '-journal'];

/**
 * Prepares a SQLite database path before it is opened: the folder 0700, the database created
 * empty as 0600 (SQLite then gives its -wal and -shm files the same mode), and any of those
 * left wider by an older agent narrowed.
 */
export function ensurePrivateDatabase(file: string): void {
  ensurePrivateDir(dirname(file));
  ensurePrivateFile(file, { create: true });
  for (const suffix of SQLITE_SIDE_FILES) ensurePrivateFile(`${file}${suffix}`);
}

/**
 * Writes `text` atomically (temp file, fsync, rename) with mode 0600 from the start: a crash
 * never leaves half a file and the content is never readable by others, even for a moment.
 */
export function writePrivateFileAtomic(file: string, text: string): void {
  ensurePrivateDir(dirname(file));
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', PRIVATE_FILE_MODE);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(tmp, PRIVATE_FILE_MODE);
  try {
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** Takes group and other bits off, never through a link, never on another account's entry. */
function narrow(path: string, mode: number): void {
  if (process.platform === 'win32') return;
  let stats: Stats;
  try {
    stats = lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (stats.isSymbolicLink() || (stats.mode & 0o077) === 0) return;
  if (stats.uid !== process.getuid?.()) return;
  chmodSync(path, (stats.mode & 0o700) | mode);
}
