import { closeSync, openSync, readSync } from 'node:fs';

const INITIAL_BYTES = 16 * 1024;
/** Past this a kernel file is not what we expect (mountinfo of a large Kubernetes node is ~1 MB). */
export const MAX_PROC_FILE_BYTES = 8 * 1024 * 1024;

/** Reads small kernel files (/proc, /sys) whole, synchronously, into one buffer kept between reads. */
export interface ProcFileReader {
  /** The file's text (Latin-1: kernel files are ASCII, and bytes map to chars one to one). */
  read(path: string): string;
}

/**
 * Kernel files are generated on read and never block on a device, so a synchronous read costs
 * microseconds and no thread-pool round trip. The buffer doubles when a file outgrows it and
 * then stays that size: collecting every interval allocates only the strings it returns.
 * Reads loop to end of file because procfs hands out at most a page per read(2) for some files.
 */
export function createProcFileReader(initialBytes = INITIAL_BYTES): ProcFileReader {
  let buffer = Buffer.allocUnsafe(initialBytes);
  return {
    read(path) {
      const fd = openSync(path, 'r');
      try {
        let length = 0;
        for (;;) {
          if (length === buffer.length) {
            if (buffer.length >= MAX_PROC_FILE_BYTES) throw new Error(`${path} is larger than ${MAX_PROC_FILE_BYTES} bytes`);
            const grown = Buffer.allocUnsafe(Math.min(buffer.length * 2, MAX_PROC_FILE_BYTES));
            buffer.copy(grown, 0, 0, length);
            buffer = grown;
          }
          const read = readSync(fd, buffer, length, buffer.length - length, null);
          if (read === 0) break;
          length += read;
        }
        return buffer.toString('latin1', 0, length);
      } finally {
        closeSync(fd);
      }
    },
  };
}
