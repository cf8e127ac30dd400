/**
 * `npm ci` (prepare) and `npm start` (prestart) run this: builds the console when web/dist is
 * missing or older than its sources, so a fresh clone serves a console without a separate step.
 * Plain JavaScript on purpose: it runs before every start, and loading tsx for it cost a second.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const webDir = dirname(dirname(fileURLToPath(import.meta.url)));
const builtIndex = join(webDir, 'dist', 'index.html');

/** @param {string} path @returns {number} */
function newestMtimeMs(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce((newest, name) => Math.max(newest, newestMtimeMs(join(path, name))), stat.mtimeMs);
}

const sources = ['src', 'public', 'index.html', 'vite.config.ts', 'package.json'].map((name) => join(webDir, name)).filter(existsSync);
// An install without the console's sources (a Docker dependency layer) has nothing to build.
if (!existsSync(join(webDir, 'src'))) process.exit(0);
const builtAt = existsSync(builtIndex) ? statSync(builtIndex).mtimeMs : 0;
const stale = builtAt === 0 || sources.some((source) => newestMtimeMs(source) > builtAt);

if (stale) {
  process.stdout.write(builtAt === 0 ? 'Building the web console (first start)…\n' : 'Web console sources changed: rebuilding…\n');
  // Through npm, which finds the workspace's vite wherever it was hoisted.
  const result = spawnSync('npm', ['run', 'build', '--silent'], { cwd: webDir, stdio: 'inherit', shell: process.platform === 'win32' });
  if (result.status !== 0) {
    process.stderr.write('The web console did not build; the server still starts, and / says how to build it.\n');
  }
}
