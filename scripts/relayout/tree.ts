import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';

/**
 * The repository as the relayout sees it before it changes anything: git-tracked files by
 * repository-relative POSIX path. Untracked files are invisible on purpose (the run refuses a
 * dirty tree), so what moves is exactly what a commit would hold.
 */
export interface Tree {
  readonly root: string;
  readonly files: ReadonlySet<string>;
  read(path: string): string;
  /** A tracked file, or anything on disk (build output such as web/dist). */
  exists(path: string): boolean;
  /** Tracked files below `dir` ('.' for the whole repository), at any depth. */
  filesUnder(dir: string): readonly string[];
}

/** Runs git with an argument array (never a shell string) in `root`. */
export function git(root: string, args: readonly string[]): string {
  return execFileSync('git', args, { cwd: root, encoding: 'utf8', maxBuffer: 256 << 20 });
}

/** Lists the tracked files once and indexes them by every folder above them. */
export function openTree(root: string): Tree {
  const files = new Set(git(root, ['ls-files', '-z']).split('\0').filter(Boolean));
  const byDir = new Map<string, string[]>();
  for (const file of files) {
    for (let dir = posix.dirname(file); ; dir = posix.dirname(dir)) {
      const list = byDir.get(dir) ?? [];
      list.push(file);
      byDir.set(dir, list);
      if (dir === '.') break;
    }
  }
  const cache = new Map<string, string>();
  return {
    root,
    files,
    read(path) {
      let text = cache.get(path);
      if (text === undefined) cache.set(path, (text = readFileSync(join(root, path), 'utf8')));
      return text;
    },
    exists: (path) => files.has(path) || existsSync(join(root, path)),
    filesUnder: (dir) => byDir.get(dir === '' ? '.' : dir) ?? [],
  };
}
