/**
 * `npm start` runs this first: builds the console when web/dist is missing or older than its
 * sources, so `npm ci && npm start` serves a console on a fresh clone without a separate step.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const webDir = dirname(dirname(fileURLToPath(import.meta.url)));
const builtIndex = join(webDir, 'dist', 'index.html');

function newestMtimeMs(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce((newest, name) => Math.max(newest, newestMtimeMs(join(path, name))), stat.mtimeMs);
}

const sources = ['src', 'public', 'index.html', 'vite.config.ts', 'package.json'].map((name) => join(webDir, name)).filter(existsSync);
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
