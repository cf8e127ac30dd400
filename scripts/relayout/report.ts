import { posix } from 'node:path';
import type { ImportEdge } from './rewrite.ts';

const TEST_FILE = /\.(?:int\.test|kill\.test|test|suite)\.tsx?$/;
export const isTestFile = (path: string) => TEST_FILE.test(path);

/** Folders directly in `scope` holding at least one of `paths`. */
export function topLevelFolders(paths: Iterable<string>, scope: string): string[] {
  const folders = new Set<string>();
  for (const path of paths) {
    if (!path.startsWith(scope)) continue;
    const parts = path.slice(scope.length).split('/');
    if (parts.length > 1) folders.add(parts[0]!);
  }
  return [...folders].sort();
}

/** Code files and test files per folder directly below `parent`. */
export function filesPerFolder(paths: Iterable<string>, parent: string): Map<string, { code: number; tests: number }> {
  const counts = new Map<string, { code: number; tests: number }>();
  for (const path of paths) {
    if (!path.startsWith(parent)) continue;
    const name = path.slice(parent.length).split('/')[0]!;
    const entry = counts.get(name) ?? { code: 0, tests: 0 };
    if (isTestFile(path)) entry.tests++;
    else entry.code++;
    counts.set(name, entry);
  }
  return new Map([...counts].sort(([a], [b]) => a.localeCompare(b)));
}

/** Lower layers never import higher ones: platform <- stores <- features <- app <- cli. */
const LAYERS = ['platform', 'stores', 'features', 'app', 'cli'] as const;
type Layer = (typeof LAYERS)[number];

function layerOf(path: string, scope: string): Layer | null {
  if (!path.startsWith(scope)) return null;
  const rest = path.slice(scope.length);
  if (rest === 'index.ts') return 'app'; // the package entry re-exports the composition root
  const first = rest.split('/')[0] as Layer;
  return LAYERS.includes(first) ? first : null;
}

const featureOf = (path: string, scope: string) => path.slice(`${scope}features/`.length).split('/')[0];

export interface ImportRuleReport {
  /** Production imports pointing up the layers, by `from -> to` layer. */
  upward: Map<string, { value: number; typeOnly: number }>;
  /** Imports of another feature's file other than its index.ts. */
  crossFeature: ImportEdge[];
  upwardEdges: ImportEdge[];
  /** Production files that would import test support or benchmark code: the run refuses these. */
  testCodeInProduction: ImportEdge[];
}

/** Checks the import graph after the moves against the layering (test files are exempt). */
export function checkImportRules(edges: readonly ImportEdge[], scope: string, testRoots: readonly string[]): ImportRuleReport {
  const report: ImportRuleReport = { upward: new Map(), crossFeature: [], upwardEdges: [], testCodeInProduction: [] };
  for (const edge of edges) {
    if (!edge.from.startsWith(scope) || isTestFile(edge.from)) continue;
    if (testRoots.some((root) => edge.to.startsWith(root))) {
      report.testCodeInProduction.push(edge);
      continue;
    }
    const from = layerOf(edge.from, scope);
    const to = layerOf(edge.to, scope);
    if (!from || !to) continue;
    if (LAYERS.indexOf(to) > LAYERS.indexOf(from)) {
      const key = `${from} -> ${to}`;
      const entry = report.upward.get(key) ?? { value: 0, typeOnly: 0 };
      if (edge.typeOnly) entry.typeOnly++;
      else entry.value++;
      report.upward.set(key, entry);
      report.upwardEdges.push(edge);
    }
    if (from === 'features' && to === 'features' && featureOf(edge.from, scope) !== featureOf(edge.to, scope) && posix.basename(edge.to) !== 'index.ts') {
      report.crossFeature.push(edge);
    }
  }
  return report;
}
