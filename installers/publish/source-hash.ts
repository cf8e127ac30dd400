import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * What goes into a package, relative to the repository: the agent and what it imports, the
 * packaging itself, and the locked dependency versions esbuild bundles.
 */
export const PACKAGE_SOURCES = ['agent/src', 'shared/src', 'installers', 'agent/package.json', 'shared/package.json', 'package-lock.json'] as const;

/** Tests change no package. */
const IGNORED = (name: string) => name === 'node_modules' || name.endsWith('.test.ts');

function filesUnder(path: string, found: string[]): void {
  if (!existsSync(path)) return;
  if (!statSync(path).isDirectory()) {
    found.push(path);
    return;
  }
  for (const name of readdirSync(path).sort()) if (!IGNORED(name)) filesUnder(join(path, name), found);
}

/**
 * SHA-256 over every package source (path and content, in a stable order) and `extra` (the
 * version, the Node runtime that is copied in, the release key packages carry): equal hashes
 * mean the packages built before are the packages a build would make now.
 */
export function sourceHash(repo: string, extra: readonly string[]): string {
  const hash = createHash('sha256');
  for (const value of extra) hash.update(`extra\0${value}\0`);
  const files: string[] = [];
  for (const source of PACKAGE_SOURCES) filesUnder(join(repo, source), files);
  for (const file of files) {
    const content = readFileSync(file);
    hash.update(`file\0${relative(repo, file)}\0${content.length}\0`).update(content);
  }
  return hash.digest('hex');
}
