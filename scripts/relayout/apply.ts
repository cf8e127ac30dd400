import { mkdirSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { git } from './tree.ts';

/** Commit messages for `--commit`: renames alone first, so git follows every file's history at 100 % similarity. */
export interface CommitMessages {
  moves: string;
  rewrites: string;
}

/** Git takes paths as arguments; a few hundred at a time stays far below any command-line limit. */
function inBatches(paths: readonly string[], run: (batch: string[]) => void): void {
  for (let i = 0; i < paths.length; i += 200) run(paths.slice(i, i + 200));
}

function removeEmptiedFolders(root: string, moves: ReadonlyMap<string, string>, stopAt: string): void {
  const stop = stopAt.replace(/\/$/, '');
  const emptied = [...new Set([...moves.keys()].map((path) => posix.dirname(path)))].sort((a, b) => b.length - a.length);
  for (const start of emptied) {
    for (let dir = start; dir.startsWith(`${stop}/`); dir = posix.dirname(dir)) {
      let entries: string[];
      try {
        entries = readdirSync(join(root, dir));
      } catch {
        continue; // removed already, through a deeper folder
      }
      if (entries.length > 0) break;
      rmdirSync(join(root, dir));
    }
  }
}

/**
 * `git mv`s every file, writes the new texts at the new paths and stages both; with `commit`,
 * the renames and the rewrites become two commits. Folders left empty below `stopAt` go.
 */
export function applyRelayout(
  root: string, changes: ReadonlyMap<string, string>, moves: ReadonlyMap<string, string>, stopAt: string, commit?: CommitMessages,
): void {
  for (const [from, to] of moves) {
    mkdirSync(join(root, posix.dirname(to)), { recursive: true });
    git(root, ['mv', from, to]);
  }
  removeEmptiedFolders(root, moves, stopAt);
  if (commit) git(root, ['commit', '--quiet', '--no-verify', '-m', commit.moves]);
  const written = [...changes].map(([path, text]) => {
    const now = moves.get(path) ?? path;
    writeFileSync(join(root, now), text);
    return now;
  });
  inBatches(written, (batch) => git(root, ['add', '--', ...batch]));
  if (commit && written.length > 0) git(root, ['commit', '--quiet', '--no-verify', '-m', commit.rewrites]);
}
