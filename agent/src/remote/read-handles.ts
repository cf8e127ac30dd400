import { open, type FileHandle } from 'node:fs/promises';

/** How long a file stays open after its last chunk: a download asks for the next one within milliseconds. */
const IDLE_MS = 2_000;
/** Files kept open at once; a read beyond them opens and closes its own handle. */
const MAX_OPEN = 8;

interface Entry { handle: Promise<FileHandle>; users: number; timer: NodeJS.Timeout | null }

/**
 * Files being downloaded, kept open between their chunk requests. Each chunk resolved its path
 * (realpath, the roots check) and opened and closed the file: three system calls and a path walk
 * per MiB, a tenth of the agent's CPU in a download. A file is resolved and opened once, by the
 * path the server names, and closed when no chunk has asked for it for IDLE_MS; a new download of
 * the same path (`forget`) opens it afresh, so a file replaced since is not read from the old one.
 */
export function createReadHandles(opts: { idleMs?: number; maxOpen?: number } = {}) {
  const idleMs = opts.idleMs ?? IDLE_MS;
  const maxOpen = opts.maxOpen ?? MAX_OPEN;
  const entries = new Map<string, Entry>();

  const close = (entry: Entry) => void entry.handle.then((h) => h.close()).catch(() => undefined);

  function release(key: string, entry: Entry) {
    entry.users -= 1;
    if (entry.users > 0) return;
    // Forgotten while in use: closed by its last reader.
    if (entries.get(key) !== entry) return close(entry);
    entry.timer = setTimeout(() => {
      if (entries.get(key) === entry && entry.users === 0) entries.delete(key);
      close(entry);
    }, idleMs);
    entry.timer.unref();
  }

  return {
    /** Runs `read` on the file `key` names, opened (after `resolve`) or still open from the previous chunk. */
    async withFile<T>(key: string, resolve: () => Promise<string>, read: (handle: FileHandle) => Promise<T>): Promise<T> {
      let entry = entries.get(key);
      if (!entry && entries.size >= maxOpen) {
        const handle = await open(await resolve(), 'r');
        try {
          return await read(handle);
        } finally {
          await handle.close();
        }
      }
      if (!entry) {
        entry = { handle: resolve().then((path) => open(path, 'r')), users: 0, timer: null };
        entries.set(key, entry);
        const opening = entry;
        // A path that cannot be opened is not remembered: the next chunk tries again.
        opening.handle.catch(() => entries.get(key) === opening && entries.delete(key));
      }
      if (entry.timer) clearTimeout(entry.timer);
      entry.timer = null;
      entry.users += 1;
      try {
        return await read(await entry.handle);
      } finally {
        release(key, entry);
      }
    },
    /** Closes `key`'s file once its reads in progress are done; the next read opens it again. */
    forget(key: string) {
      const entry = entries.get(key);
      if (!entry) return;
      entries.delete(key);
      if (entry.timer) clearTimeout(entry.timer);
      if (entry.users === 0) close(entry);
    },
  };
}
