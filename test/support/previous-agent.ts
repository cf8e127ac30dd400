import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './processes.ts';

/**
 * The agent release before the wire protocol carried a version (agent 0.1.0, protocol 1: it
 * sends no `protocolVersion`). Agents update on their own schedule, so the server must keep
 * serving this one until MIN_PROTOCOL_VERSION is raised. Move it forward to the previous
 * release's commit when a release changes the protocol.
 */
export const PREVIOUS_AGENT_COMMIT = '952bee27268337a844d1b9117a0fbaecd36f98ff';

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
  execFileSync('git', ['archive', '--format=tar', `--output=${archive}`, commit, ...ARCHIVED_PATHS], { cwd: REPO_ROOT });
  execFileSync('tar', ['-xf', archive, '-C', dir]);
  linkDependencies(dir);
  execFileSync(process.execPath, [join(dir, 'scripts', 'build.mjs'), 'agent'], { cwd: dir, stdio: 'pipe' });
  const entry = join(dir, 'agent', 'dist', 'cli', 'main.mjs');
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
