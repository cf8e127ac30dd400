import { lstat, mkdir, readdir } from 'node:fs/promises';
import { join, relative, resolve, sep as localSep } from 'node:path';
import { MAX_LIST_ENTRIES, folderBudget, isSafeEntryName } from '@ninjait/shared';
import { downloadFile, uploadFile, type ByteSource, type ChunkSink, type RemoteCall, type TransferOptions } from './transfer.ts';

/**
 * Folders are copied as their files, one transfer each (resumed and SHA-256-checked like any
 * `ninjait cp`), with the folders created first. Links are not followed on either side: a link
 * to `/` would copy the whole machine, and a device's link could lead out of the folder asked
 * for; they are listed as skipped instead.
 */

export interface FolderSummary {
  /** The top folder as the far side names it. */
  path: string;
  files: number;
  folders: number;
  bytes: number;
  /** Links and special files, not copied (relative paths). */
  skipped: string[];
}

export interface FolderOptions extends TransferOptions {
  /** Called as each file starts, with its path relative to the top folder; returns its progress callback. */
  onFile?: (relativePath: string, size: number) => ((done: number, total: number) => void) | undefined;
}

/** The separator of a device path: Windows forms (`C:\`, `\\server\share`) use `\`. */
export function remoteSeparator(path: string): '/' | '\\' {
  return /^[A-Za-z]:[\\/]/.test(path) || path.startsWith('\\\\') ? '\\' : '/';
}

const remoteChild = (dir: string, name: string) => {
  const sep = remoteSeparator(dir);
  return dir.endsWith(sep) ? `${dir}${name}` : `${dir}${sep}${name}`;
};

/** Copies a local folder's tree into `remoteDir` on the device (created if missing; its parent must exist). */
export async function uploadFolder(call: RemoteCall, localDir: string, remoteDir: string, opts: FolderOptions & { overwrite?: boolean; chunks?: ChunkSink } = {}): Promise<FolderSummary> {
  const top = resolve(localDir);
  if (!(await lstat(top)).isDirectory()) throw new Error(`${localDir} is not a folder`);
  const summary: FolderSummary = { path: '', files: 0, folders: 0, bytes: 0, skipped: [] };
  const count = folderBudget();
  const visit = async (local: string, remote: string, depth: number) => {
    count(depth, local);
    const made = await call({ kind: 'fs.mkdir', path: remote });
    summary.folders += 1;
    if (depth === 0) summary.path = made.path;
    const entries = (await readdir(local, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      const path = join(local, entry.name);
      const rel = relative(top, path).split(localSep).join('/');
      if (entry.isDirectory()) {
        await visit(path, remoteChild(made.path, entry.name), depth + 1);
      } else if (entry.isFile()) {
        count(depth + 1, path);
        const { size } = await lstat(path);
        const onProgress = opts.onFile?.(rel, size);
        const done = await uploadFile(call, path, remoteChild(made.path, entry.name), { ...opts, ...(onProgress ? { onProgress } : {}) });
        summary.files += 1;
        summary.bytes += done.size;
      } else {
        summary.skipped.push(rel);
      }
    }
  };
  await visit(top, remoteDir, 0);
  return summary;
}

/** Copies a device's folder tree into `localDir` (created if missing). */
export async function downloadFolder(call: RemoteCall, remoteDir: string, localDir: string, opts: FolderOptions & { stream?: ByteSource } = {}): Promise<FolderSummary> {
  const summary: FolderSummary = { path: '', files: 0, folders: 0, bytes: 0, skipped: [] };
  const count = folderBudget();
  const visit = async (remote: string, local: string, rel: string, depth: number) => {
    count(depth, remote);
    const listing = await call({ kind: 'fs.list', path: remote });
    if (listing.omitted > 0) throw new Error(`${listing.path} holds more than ${MAX_LIST_ENTRIES} entries; copy its subfolders one by one`);
    if (depth === 0) summary.path = listing.path;
    await mkdir(local, { recursive: depth === 0, mode: 0o755 }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
    summary.folders += 1;
    for (const entry of listing.entries) {
      const name = `${rel}${entry.name}`;
      if (!isSafeEntryName(entry.name)) throw new Error(`The device listed an entry named ${JSON.stringify(entry.name)} in ${listing.path}; nothing by that name is written here`);
      const from = remoteChild(listing.path, entry.name);
      const to = join(local, entry.name);
      if (entry.type === 'dir') {
        await visit(from, to, `${name}/`, depth + 1);
      } else if (entry.type === 'file') {
        count(depth + 1, from);
        const onProgress = opts.onFile?.(name, entry.size ?? 0);
        const done = await downloadFile(call, from, to, { ...opts, ...(onProgress ? { onProgress } : {}) });
        summary.files += 1;
        summary.bytes += done.size;
      } else {
        summary.skipped.push(name);
      }
    }
  };
  await visit(remoteDir, resolve(localDir), '', 0);
  return summary;
}
