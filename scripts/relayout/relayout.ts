import { applyRelayout, type CommitMessages } from './apply.ts';
import type { Mapping } from './mapping.ts';
import { planMoves } from './plan.ts';
import { createRelocator } from './relocate.ts';
import { checkImportRules, filesPerFolder, topLevelFolders } from './report.ts';
import { planRewrites } from './rewrite.ts';
import { git, openTree } from './tree.ts';

export interface RelayoutOptions {
  root: string;
  mapping: Mapping;
  /** Move unmapped files where their folder's rule suggests. */
  auto?: boolean;
  /** Plan and report only. */
  dryRun?: boolean;
  /** Run although the work tree has changes (they could not be told apart from the relayout's). */
  allowDirty?: boolean;
  /** Commit the renames, then the rewrites, as two commits (otherwise everything is staged for review). */
  commit?: boolean;
  /** List every upward and cross-feature import, not only their counts. */
  verbose?: boolean;
  log?: (line: string) => void;
}

/** 0: done or nothing to do; 1: the mapping and the tree disagree, nothing was changed; 2: the tree is not clean (or flags clash). */
export type ExitCode = 0 | 1 | 2;

const COMMITS: CommitMessages = {
  moves: 'Server files move into feature slices: renames only, so history follows every file\n\n' +
    'Imports are re-aimed in the next commit; this one does not build on its own.',
  rewrites: 'Imports, package exports and path mentions follow the files to their new folders',
};

const list = (log: (line: string) => void, title: string, lines: readonly string[]) => {
  if (lines.length === 0) return;
  log(title);
  for (const line of lines) log(`  ${line}`);
};

/**
 * Moves the files of `mapping.scope` to their new folders and re-aims every reference to them,
 * or changes nothing and says why. Safe to run again: files already at their target are skipped.
 */
export function runRelayout(options: RelayoutOptions): ExitCode {
  const log = options.log ?? console.log;
  const started = performance.now();
  const { root, mapping } = options;
  if (options.commit && options.allowDirty) {
    log('relayout: --commit would commit whatever else is staged; it cannot go with --allow-dirty');
    return 2;
  }
  if (!options.allowDirty && git(root, ['status', '--porcelain']).trim() !== '') {
    log('relayout: the work tree has changes; commit or stash them first (or pass --allow-dirty)');
    return 2;
  }

  const tree = openTree(root);
  const plan = planMoves(tree, mapping, { auto: options.auto ?? false });
  log(`relayout: ${plan.moves.size} files to move, ${plan.alreadyMoved.length} already at their target, ${plan.staying} staying`);
  const suggested = [...plan.suggestions];
  list(log, `unmapped files (${suggested.length}); as mapping lines (${options.auto ? 'applied' : 'add them to map.json, or run with --auto'}):`,
    suggested.map(([from, to]) => `${JSON.stringify(from)}: ${to ? JSON.stringify(to) : '??? (no folder rule)'},`));
  if (plan.errors.length > 0) {
    list(log, `relayout refused, nothing changed (${plan.errors.length} problems):`, plan.errors);
    return 1;
  }
  if (plan.moves.size === 0) {
    log('relayout: nothing to move; the tree already has the new layout');
    return 0;
  }

  const relocator = createRelocator(tree, plan.moves);
  const rewrites = planRewrites(tree, mapping, plan.moves, relocator);
  const rules = checkImportRules(rewrites.edges, mapping.scope, mapping.testOnlyRoots);
  const blocking = [
    ...rewrites.errors,
    ...rules.testCodeInProduction.map((e) => `production file ${e.from} would import test-only ${e.to}: add an edit to map.json`),
  ];
  if (blocking.length > 0) {
    list(log, `relayout refused, nothing changed (${blocking.length} problems):`, blocking);
    return 1;
  }

  const before = [...tree.files];
  const after = before.map(relocator.file);
  const foldersBefore = topLevelFolders(before, mapping.scope);
  const foldersAfter = topLevelFolders(after, mapping.scope);
  log(`top-level folders in ${mapping.scope}: ${foldersBefore.length} -> ${foldersAfter.length} (${foldersAfter.join(', ')})`);
  log(`files per feature (code + tests): ${[...filesPerFolder(after, `${mapping.scope}features/`)].map(([name, n]) => `${name} ${n.code}+${n.tests}`).join(', ')}`);
  log(`files per other folder: ${[...filesPerFolder(after, mapping.scope)].filter(([name]) => name !== 'features').map(([name, n]) => `${name} ${n.code}+${n.tests}`).join(', ')}`);
  log(`rewrote ${rewrites.counts.specifiers} import/URL/mock paths and ${rewrites.counts.mentions} path mentions in ${rewrites.changes.size} files; ` +
    `${rewrites.counts.manifests} package/tsconfig entries; ${rewrites.counts.deletedLines} lines deleted by map.json edits`);
  list(log, 'notes:', rewrites.notes);
  const upward = [...rules.upward].map(([pair, n]) => `${pair}: ${n.value} value + ${n.typeOnly} type-only`);
  log(`import rules after the move (production files; the next phase removes these): ${rules.upwardEdges.length} upward imports, ` +
    `${rules.crossFeature.length} cross-feature imports not through index.ts`);
  list(log, 'upward imports by layer:', upward);
  if (options.verbose) {
    list(log, 'upward imports:', rules.upwardEdges.map((e) => `${e.from} -> ${e.to}${e.typeOnly ? ' (type)' : ''}`));
    list(log, 'cross-feature imports:', rules.crossFeature.map((e) => `${e.from} -> ${e.to}${e.typeOnly ? ' (type)' : ''}`));
  }
  list(log, `mentions of paths that will be gone, left for a person (${rewrites.stale.length}):`, rewrites.stale);

  if (options.dryRun) {
    log(`dry run: nothing written (${((performance.now() - started) / 1000).toFixed(1)} s)`);
    return 0;
  }
  applyRelayout(root, rewrites.changes, plan.moves, mapping.scope, options.commit ? COMMITS : undefined);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  log(options.commit ? `relayout done in ${seconds} s: two commits (renames, then rewrites). Next:` : `relayout done in ${seconds} s; changes are staged, not committed. Next:`);
  log('  npx tsc -p tsconfig.json --noEmit && npx tsc -p web/tsconfig.json --noEmit && npx eslint .');
  return 0;
}
