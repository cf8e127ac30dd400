import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './processes.ts';

/**
 * The agent release before the wire protocol carried a version (agent 0.1.0, protocol 1: it
 * sends no `protocolVersion`), the last commit of main before it: agents in the field run it
 * and update on their own schedule, so the server must keep serving it until
 * MIN_PROTOCOL_VERSION is raised. Move it forward to the previous release's commit when a
 * release changes the protocol (a commit main holds: CI clones main).
 */
export const PREVIOUS_AGENT_COMMIT = 'e74645491ad5f2b377b14d2ea6e40cd320b24f83';

/** What building the previous agent needs from its commit: its sources, the shared protocol it was built with, and its recipe. */
const ARCHIVED_PATHS = ['package.json', 'package-lock.json', 'scripts', 'agent', 'shared'];

/**
 * Builds the previous release's agent bundle, with that release's own build recipe and its own
 * `shared` (not today's), into `dir`; returns the bundle's entry point. Third-party packages are
 * today's node_modules, linked: the protocol under test is our code, not theirs.
 */
export function buildPreviousAgent(dir: string, commit = PREVIOUS_AGENT_COMMIT): string {
  mkdirSync(dir, { recursive: true });
  const archive = join(dir, 'previous.tar');
  try {
    execFileSync('git', ['cat-file', '-e', `${commit}^{commit}`], { cwd: REPO_ROOT, stdio: 'pipe' });
  } catch {
    throw new Error(`the previous agent release's commit ${commit} is not in this clone (a shallow clone?): run \`git fetch --unshallow\``);
  }
  // An older release may not have every one of them (no scripts/ before the build recipe).
  const top = new Set(execFileSync('git', ['ls-tree', '--name-only', commit], { cwd: REPO_ROOT }).toString().split('\n'));
  execFileSync('git', ['archive', '--format=tar', `--output=${archive}`, commit, ...ARCHIVED_PATHS.filter((path) => top.has(path))], { cwd: REPO_ROOT });
  execFileSync('tar', ['-xf', archive, '-C', dir]);
  linkDependencies(dir);
  const entry = join(dir, 'agent', 'dist', 'cli', 'main.mjs');
  if (existsSync(join(dir, 'scripts', 'build.mjs'))) {
    execFileSync(process.execPath, [join(dir, 'scripts', 'build.mjs'), 'agent'], { cwd: dir, stdio: 'pipe' });
  } else {
    // A release from before the build recipe shipped its TypeScript run by tsx: the same
    // sources, bundled here with today's esbuild into one file, run the same code.
    execFileSync(join(REPO_ROOT, 'node_modules', '.bin', 'esbuild'), [
      join('agent', 'src', 'cli', 'main.ts'), '--bundle', '--platform=node', '--format=esm', '--target=node20', `--outfile=${entry}`,
      ...['better-sqlite3', 'node-pty', 'bufferutil', 'utf-8-validate'].map((name) => `--external:${name}`),
      "--banner:js=import { createRequire as __ninjaitCreateRequire } from 'node:module'; const require = __ninjaitCreateRequire(import.meta.url);",
      '--log-level=error',
    ], { cwd: dir, stdio: 'pipe' });
  }
  if (!existsSync(entry)) throw new Error(`building the agent of ${commit} wrote no ${entry}`);
  return entry;
}

/**
 * A node_modules of links into today's, except the workspace packages: @ninjait/shared must be
 * the archived one, or the "previous" agent would be built with today's protocol.
 */
function linkDependencies(dir: string): void {
  const modules = join(dir, 'node_modules');
  mkdirSync(join(modules, '@ninjait'), { recursive: true });
  for (const name of readdirSync(join(REPO_ROOT, 'node_modules'))) {
    if (name === '@ninjait' || name === '.bin' || name.startsWith('.')) continue;
    symlinkSync(join(REPO_ROOT, 'node_modules', name), join(modules, name));
  }
  symlinkSync(join(dir, 'shared'), join(modules, '@ninjait', 'shared'));
  symlinkSync(join(dir, 'agent'), join(modules, '@ninjait', 'agent'));
}
