import { posix } from 'node:path';
import type { Tree } from './tree.ts';

/** A relative reference seen from its file, before and after the moves. */
export interface Relocated {
  /** What the reference names now, and after the moves (repository-relative). */
  target: string;
  newTarget: string;
  resolved: 'file' | 'dir' | 'unknown';
  /** The text to write instead, or null when it is still right. */
  newSpec: string | null;
}

export interface Relocator {
  /** Where a file will be after the moves. */
  file(path: string): string;
  /** Where a folder will be: itself while any file stays in it, its new home when all of it moves together, 'split' otherwise. */
  dir(path: string): string | 'split';
  /**
   * Where most files of a folder that splits go (ties: the first by name), or null while any file
   * stays in it: prose that names the folder most likely means that part.
   */
  dirMajority(path: string): string | null;
  /** Whether a path (file or folder) that exists now will not exist after the moves. */
  isGone(path: string): boolean;
  /** Re-aims a `./` or `../` reference written in `fromFile`; null for anything else (packages, URLs). */
  ref(fromFile: string, spec: string): Relocated | null;
}

export const isRelativeSpec = (spec: string) => spec === '.' || spec === '..' || spec.startsWith('./') || spec.startsWith('../');

/** `to` as seen from folder `fromDir`, always starting with `./` or `../` as module specifiers must. */
export function relativeSpec(fromDir: string, to: string): string {
  const path = posix.relative(fromDir, to);
  if (path === '') return '.';
  return path === '..' || path.startsWith('../') ? path : `./${path}`;
}

/** Builds the path arithmetic for one set of moves over one tree. */
export function createRelocator(tree: Tree, moves: ReadonlyMap<string, string>): Relocator {
  const dirCache = new Map<string, string | 'split'>();
  const file = (path: string) => moves.get(path) ?? path;

  /** For each file of a folder that empties, the folder it lands in as that folder's new name (null when renamed). */
  const homesOf = (path: string): Array<string | null> | null => {
    const inside = tree.filesUnder(path);
    if (inside.length === 0 || !inside.every((f) => moves.has(f))) return null;
    return inside.map((f) => {
      const rest = f.slice(path === '.' ? 0 : path.length + 1);
      const to = moves.get(f)!;
      return to.endsWith(`/${rest}`) ? to.slice(0, -rest.length - 1) : null;
    });
  };

  const dir = (path: string): string | 'split' => {
    const cached = dirCache.get(path);
    if (cached !== undefined) return cached;
    const homes = homesOf(path);
    const distinct = new Set(homes ?? [path]);
    const fate = distinct.size === 1 && !distinct.has(null) ? [...distinct][0]! : 'split';
    dirCache.set(path, fate);
    return fate;
  };

  const dirMajority = (path: string): string | null => {
    const counts = new Map<string, number>();
    for (const home of homesOf(path) ?? []) if (home !== null) counts.set(home, (counts.get(home) ?? 0) + 1);
    return [...counts].sort(([a, m], [b, n]) => n - m || a.localeCompare(b))[0]?.[0] ?? null;
  };

  const isGone = (path: string) =>
    moves.has(path) || (tree.filesUnder(path).length > 0 && tree.filesUnder(path).every((f) => moves.has(f)));

  const ref = (fromFile: string, spec: string): Relocated | null => {
    if (!isRelativeSpec(spec)) return null;
    const trailingSlash = spec.endsWith('/') && spec.length > 1 ? '/' : '';
    const target = posix.normalize(posix.join(posix.dirname(fromFile), spec)).replace(/\/$/, '') || '.';
    let resolved: Relocated['resolved'] = 'unknown';
    let named = target;
    let jsForTs = false;
    if (tree.files.has(target)) resolved = 'file';
    else if (target.endsWith('.js') && tree.files.has(target.replace(/\.js$/, '.ts'))) {
      resolved = 'file';
      named = target.replace(/\.js$/, '.ts');
      jsForTs = true;
    } else if (tree.filesUnder(target).length > 0) resolved = 'dir';

    let newTarget = named;
    if (resolved === 'file') newTarget = file(named);
    else if (resolved === 'dir') {
      const fate = dir(named);
      if (fate === 'split') throw new Error(`${fromFile} names folder ${spec}, whose files move to different places: map them together or change the reference first`);
      newTarget = fate;
    }
    const newFrom = file(fromFile);
    if (newTarget === named && newFrom === fromFile) return { target: named, newTarget, resolved, newSpec: null };
    let newSpec = relativeSpec(posix.dirname(newFrom), newTarget) + trailingSlash;
    if (jsForTs) newSpec = newSpec.replace(/\.ts$/, '.js');
    return { target: named, newTarget, resolved, newSpec: newSpec === spec ? null : newSpec };
  };

  return { file, dir, dirMajority, isGone, ref };
}
