import { posix } from 'node:path';
import type { Mapping } from './mapping.ts';
import type { Tree } from './tree.ts';

/** What this run will move, and why it may refuse to. */
export interface Plan {
  /** Pending moves only: old path -> new path. */
  moves: Map<string, string>;
  /** Mapped files already at their target (an earlier, possibly partial, run). */
  alreadyMoved: string[];
  /** Files whose decision is to stay where they are. */
  staying: number;
  /** Unmapped files and where they probably belong (moved only with --auto). */
  suggestions: Map<string, string | null>;
  errors: string[];
}

const TEST_SUFFIX = /\.(?:int\.test|kill\.test|test|suite)\.tsx?$/;

/** Where an unmapped file probably goes: beside the file it tests, else by its folder's rule. */
function suggestTarget(file: string, mapping: Mapping, decided: ReadonlyMap<string, string>): string | null {
  if (TEST_SUFFIX.test(file)) {
    const subject = file.replace(TEST_SUFFIX, '.ts');
    const subjectTarget = decided.get(subject);
    if (subjectTarget) return posix.join(posix.dirname(subjectTarget), posix.basename(file));
  }
  const prefix = Object.keys(mapping.suggest).filter((from) => file.startsWith(from)).sort((a, b) => b.length - a.length)[0];
  if (prefix === undefined) return null;
  const stem = posix.basename(file).split('.')[0] ?? '';
  return mapping.suggest[prefix]!.replaceAll('{stem}', stem) + file.slice(prefix.length);
}

/**
 * Checks the mapping against the tree: every mapped file must exist (at its old or its new
 * path, not both), every file of the scope must be mapped, no two files may share a target.
 */
export function planMoves(tree: Tree, mapping: Mapping, options: { auto: boolean }): Plan {
  const plan: Plan = { moves: new Map(), alreadyMoved: [], staying: 0, suggestions: new Map(), errors: [] };
  const decided = new Map(Object.entries(mapping.files));
  for (const [from, to] of decided) {
    const hasFrom = tree.files.has(from);
    if (from === to) {
      if (hasFrom) plan.staying++;
      else plan.errors.push(`mapped file does not exist: ${from} (remove it from the mapping, or map its new name)`);
    } else if (hasFrom && !tree.exists(to)) plan.moves.set(from, to);
    else if (!hasFrom && tree.files.has(to)) plan.alreadyMoved.push(from);
    else if (hasFrom) plan.errors.push(`both ${from} and its target ${to} exist: decide which one is current`);
    else plan.errors.push(`mapped file does not exist: ${from} (nor its target ${to}; remove it from the mapping, or map its new name)`);
  }

  const targets = new Set(decided.values());
  const unmapped = [...tree.filesUnder(mapping.scope.replace(/\/$/, ''))]
    .filter((file) => !decided.has(file) && !targets.has(file) && !mapping.newLayoutRoots.some((root) => file.startsWith(root)))
    // Tests after the files they test, so a test can follow its subject's suggestion.
    .sort((a, b) => Number(TEST_SUFFIX.test(a)) - Number(TEST_SUFFIX.test(b)) || a.localeCompare(b));
  for (const file of unmapped) {
    const target = suggestTarget(file, mapping, decided);
    plan.suggestions.set(file, target);
    if (target) decided.set(file, target);
    if (!target) plan.errors.push(`not in the mapping, and no folder rule suggests a place: ${file}`);
    else if (!options.auto) plan.errors.push(`not in the mapping: ${file} (suggested: ${target}; --auto applies it)`);
    if (!options.auto || !target) continue;
    if (target === file) plan.staying++;
    else plan.moves.set(file, target);
  }

  const seen = new Map<string, string>();
  for (const [from, to] of decided) {
    const other = seen.get(to);
    if (other !== undefined) plan.errors.push(`two files would move to ${to}: ${other} and ${from}`);
    seen.set(to, from);
  }
  for (const [from, to] of plan.moves) {
    if (plan.moves.has(to)) plan.errors.push(`${from} would move onto ${to}, which moves too: split the chain into two runs`);
    else if (tree.exists(to)) plan.errors.push(`${from} would move onto ${to}, which exists`);
  }
  return plan;
}
