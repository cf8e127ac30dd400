import { posix } from 'node:path';
import type { Relocator } from './relocate.ts';
import type { Tree } from './tree.ts';

/** Replace text[start, end) by `text`. */
export interface TextEdit {
  start: number;
  end: number;
  text: string;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Where a mentioned path (file or folder) will be, or null when the mention stays right. */
function relocatedMention(path: string, relocator: Relocator): { to: string; guessed: boolean } | null {
  const asFile = relocator.file(path);
  if (asFile !== path) return { to: asFile, guessed: false };
  const asDir = relocator.dir(path);
  if (asDir !== 'split') return asDir !== path ? { to: asDir, guessed: false } : null;
  const most = relocator.dirMajority(path);
  return most ? { to: most, guessed: true } : null;
}

/** Splits `server/src/x.ts.` into the path and the punctuation or slash after it. */
function corePath(token: string): string {
  return token.replace(/[./]+$/, '');
}

/**
 * Mentions of moved paths written from the repository root (`server/src/api/trpc.ts` in a README,
 * a shell script, an error message or a comment). A mention right after `/` or `.` is part of a
 * relative path, which the syntax-aware pass handles in code. A folder that splits is taken to
 * mean where most of it goes, said in `guesses` for a person to check.
 */
export function rootMentionEdits(text: string, file: string, scopeRoot: string, relocator: Relocator, guesses: string[]): TextEdit[] {
  const edits: TextEdit[] = [];
  const pattern = new RegExp(`(?<![\\w./@-])${escapeRegExp(scopeRoot)}(?:/[\\w.-]+)*/?`, 'g');
  for (const match of text.matchAll(pattern)) {
    const path = corePath(match[0]);
    const moved = relocatedMention(path, relocator);
    if (!moved) continue;
    edits.push({ start: match.index, end: match.index + path.length, text: moved.to });
    if (moved.guessed) guesses.push(`${file}:${text.slice(0, match.index).split('\n').length}: ${path} (a folder that splits) -> ${moved.to}, where most of it goes: check`);
  }
  return edits;
}

const SRC_RELATIVE = /(?<![\w./@-])(?:[\w-]+\/)+[\w-]+(?:\.[\w-]+)*\.(?:tsx?|m?js)(?![\w/-])/g;

/**
 * Mentions in comments written from `server/src` (`see sinks/cache-sink.ts`). One is rewritten
 * only when it cannot mean a file of the commenting package: ambiguous ones go to `skipped`.
 */
export function commentMentionEdits(
  text: string, comments: ReadonlyArray<{ start: number; end: number }>, file: string,
  scope: string, tree: Tree, relocator: Relocator, skipped: string[],
): TextEdit[] {
  const edits: TextEdit[] = [];
  const ownSrc = `${file.split('/')[0]}/src/`;
  for (const comment of comments) {
    const body = text.slice(comment.start, comment.end);
    for (const match of body.matchAll(SRC_RELATIVE)) {
      const token = match[0];
      const meant = scope + token;
      const moved = relocator.file(meant);
      if (moved === meant) continue;
      const alsoMeans = [posix.join(posix.dirname(file), token), ownSrc + token].find((p) => p !== meant && tree.exists(p));
      if (alsoMeans) {
        skipped.push(`${file}: comment names ${token}, which may mean ${alsoMeans} or ${meant}: left as is`);
        continue;
      }
      const start = comment.start + match.index;
      edits.push({ start, end: start + token.length, text: moved.startsWith(scope) ? moved.slice(scope.length) : moved });
    }
  }
  return edits;
}

/** Mentions of paths that will no longer exist, left for a person (folders that split, relative prose). */
export function staleMentions(text: string, file: string, scopeRoot: string, relocator: Relocator): string[] {
  const found: string[] = [];
  const pattern = new RegExp(`${escapeRegExp(scopeRoot)}(?:/[\\w.-]+)+`, 'g');
  for (const match of text.matchAll(pattern)) {
    const path = corePath(match[0]);
    if (!relocator.isGone(path)) continue;
    const line = text.slice(0, match.index).split('\n').length;
    found.push(`${file}:${line}: ${path}`);
  }
  return found;
}
