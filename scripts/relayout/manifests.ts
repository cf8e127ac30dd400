import { posix } from 'node:path';
import ts from 'typescript';
import { relativeSpec, type Relocator } from './relocate.ts';

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** package.json fields whose values are files of the package, written from its folder. */
const FILE_FIELDS = ['exports', 'bin', 'main', 'module', 'types', 'typings', 'browser'] as const;
const SCRIPT_PATH = /(?<![\w./@-])(?:\.\/)?[\w-]+(?:\/[\w.-]+)+/g;

function collectStrings(value: unknown, into: Set<string>): void {
  if (typeof value === 'string') into.add(value);
  else if (value && typeof value === 'object') for (const inner of Object.values(value)) collectStrings(inner, into);
}

/**
 * A package.json with its `exports`, `bin`, `main`… and workspace scripts aimed at the moved files,
 * text edited in place so its formatting stays. Package names (`@ninjait/server/router`) keep
 * working because only what they point at changes.
 */
export function rewritePackageJson(path: string, text: string, relocator: Relocator): { text: string; changed: number } {
  const pkgDir = posix.dirname(path);
  const json = JSON.parse(text) as Record<string, unknown>;
  const values = new Set<string>();
  for (const field of FILE_FIELDS) collectStrings(json[field], values);
  let out = text;
  let changed = 0;
  for (const value of values) {
    if (!value.startsWith('./')) continue;
    const target = posix.join(pkgDir, value);
    const moved = relocator.file(target);
    if (moved === target) continue;
    out = out.replace(new RegExp(`(:\\s*)"${escapeRegExp(value)}"`, 'g'), `$1"${relativeSpec(pkgDir, moved)}"`);
    changed++;
  }
  // The root package's scripts name files from the root, which the mention pass covers.
  const scripts = pkgDir === '.' ? {} : (json.scripts ?? {}) as Record<string, string>;
  for (const script of Object.values(scripts)) {
    const rewritten = script.replace(SCRIPT_PATH, (token) => {
      const target = posix.join(pkgDir, token);
      const moved = relocator.file(target);
      return moved === target ? token : posix.relative(pkgDir, moved);
    });
    if (rewritten === script) continue;
    out = out.replace(JSON.stringify(script), JSON.stringify(rewritten));
    changed++;
  }
  return { text: out, changed };
}

/**
 * A tsconfig whose `include` covered a moved file's old place but not its new one gets the new
 * folder (as deep as the entry that covered it: `server/src` -> `server/test-support`).
 */
export function rewriteTsconfig(path: string, text: string, moves: ReadonlyMap<string, string>): { text: string; added: string[] } {
  const dir = posix.dirname(path);
  const config = ts.parseConfigFileTextToJson(path, text).config as { include?: unknown } | undefined;
  const include = config?.include;
  if (!Array.isArray(include) || !include.every((e) => typeof e === 'string')) return { text, added: [] };
  const entries: string[] = [...include];
  const covers = (entry: string, file: string) => {
    const base = posix.join(dir, entry.split('*')[0]!).replace(/\/$/, '');
    return file === base || file.startsWith(`${base}/`) || base === '.';
  };
  const additions: Array<{ after: string; entry: string }> = [];
  for (const [from, to] of moves) {
    const covering = entries.find((e) => covers(e, from));
    if (covering === undefined || entries.some((e) => covers(e, to))) continue;
    const depth = posix.join(dir, covering).split('/').length;
    const entry = posix.relative(dir, to.split('/').slice(0, depth).join('/'));
    entries.push(entry);
    additions.push({ after: covering, entry });
  }
  let out = text;
  for (const { after, entry } of additions) {
    out = out.replace(/("include"\s*:\s*\[)([^\]]*)(\])/, (_all, open: string, body: string, close: string) =>
      open + body.replace(JSON.stringify(after), `${JSON.stringify(after)}, ${JSON.stringify(entry)}`) + close);
  }
  return { text: out, added: additions.map((a) => `${path}: include += ${a.entry}`) };
}
