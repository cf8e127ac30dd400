import { posix } from 'node:path';
import { commentMentionEdits, rootMentionEdits, staleMentions, type TextEdit } from './mentions.ts';
import { rewritePackageJson, rewriteTsconfig } from './manifests.ts';
import type { Mapping } from './mapping.ts';
import type { Relocator } from './relocate.ts';
import { scanSource, scriptKindOf } from './source-refs.ts';
import type { Tree } from './tree.ts';

/** One import after the moves, by new paths. */
export interface ImportEdge {
  from: string;
  to: string;
  typeOnly: boolean;
}

export interface Rewrites {
  /** New content by current path, for files that change. */
  changes: Map<string, string>;
  counts: { specifiers: number; mentions: number; manifests: number; deletedLines: number };
  edges: ImportEdge[];
  /** Lines for the report: tsconfig includes added, ambiguous or inapplicable things left alone. */
  notes: string[];
  /** Mentions of paths that will be gone, which no rule could rewrite. */
  stale: string[];
  errors: string[];
}

function applyEdits(text: string, edits: TextEdit[]): string {
  let out = text;
  for (const edit of [...edits].sort((a, b) => b.start - a.start)) out = out.slice(0, edit.start) + edit.text + out.slice(edit.end);
  return out;
}

const overlaps = (a: TextEdit, list: readonly TextEdit[]) => list.some((b) => a.start < b.end && b.start < a.end);

/** The mapping's line deletions for one file; a line that is no longer there is reported, not fatal. */
function deleteLines(file: string, text: string, mapping: Mapping, notes: string[]): { text: string; deleted: number } {
  let out = text;
  let deleted = 0;
  for (const edit of mapping.edits.filter((e) => e.file === file)) {
    const at = out.split('\n').indexOf(edit.deleteLine);
    if (at < 0) {
      notes.push(`${file}: the line to delete is gone already (${edit.deleteLine})`);
      continue;
    }
    const lines = out.split('\n');
    lines.splice(at, 1);
    out = lines.join('\n');
    deleted++;
  }
  return { text: out, deleted };
}

/**
 * Computes, without writing anything, every file's new text: relative module specifiers,
 * `vi.mock` paths and `new URL(…, import.meta.url)` re-aimed from the syntax tree; repository
 * paths in any text file; package `exports`/`bin`; tsconfig `include`. Also collects the import
 * graph after the moves for the import-rule report.
 */
export function planRewrites(tree: Tree, mapping: Mapping, moves: ReadonlyMap<string, string>, relocator: Relocator): Rewrites {
  const result: Rewrites = {
    changes: new Map(), counts: { specifiers: 0, mentions: 0, manifests: 0, deletedLines: 0 }, edges: [], notes: [], stale: [], errors: [],
  };
  const scopeRoot = mapping.scope.replace(/\/$/, '');
  for (const file of [...tree.files].sort()) {
    if (mapping.textExclude.some((prefix) => file.startsWith(prefix))) continue;
    const original = tree.read(file);
    if (original.includes('\0')) continue;
    const { text, deleted } = deleteLines(file, original, mapping, result.notes);
    result.counts.deletedLines += deleted;

    const edits: TextEdit[] = [];
    const kind = scriptKindOf(file);
    if (kind !== null) {
      const scan = scanSource(file, text, kind);
      for (const ref of scan.refs) {
        let moved;
        try {
          moved = relocator.ref(file, ref.text);
        } catch (error) {
          result.errors.push((error as Error).message);
          continue;
        }
        if (!moved) continue;
        if (ref.kind === 'module' && moved.resolved === 'file') result.edges.push({ from: relocator.file(file), to: moved.newTarget, typeOnly: ref.typeOnly });
        if (moved.newSpec === null) continue;
        edits.push({ start: ref.start, end: ref.end, text: moved.newSpec });
        result.counts.specifiers++;
      }
      const skipped: string[] = [];
      for (const edit of commentMentionEdits(text, scan.comments, file, mapping.scope, tree, relocator, skipped)) {
        if (!overlaps(edit, edits)) { edits.push(edit); result.counts.mentions++; }
      }
      result.notes.push(...skipped);
    }
    for (const edit of rootMentionEdits(text, file, scopeRoot, relocator, result.notes)) {
      if (!overlaps(edit, edits)) { edits.push(edit); result.counts.mentions++; }
    }
    let after = applyEdits(text, edits);

    const name = posix.basename(file);
    if (name === 'package.json') {
      const pkg = rewritePackageJson(file, after, relocator);
      after = pkg.text;
      result.counts.manifests += pkg.changed;
    } else if (/^tsconfig.*\.json$/.test(name)) {
      const tsconfig = rewriteTsconfig(file, after, moves);
      after = tsconfig.text;
      result.counts.manifests += tsconfig.added.length;
      result.notes.push(...tsconfig.added);
    }
    result.stale.push(...staleMentions(after, relocator.file(file), scopeRoot, relocator));
    if (after !== original) result.changes.set(file, after);
  }
  return result;
}
