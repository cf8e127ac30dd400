import { spawnSync } from 'node:child_process';
import { findExecutable } from './executables.ts';

const APT = ['-o', 'DPkg::Lock::Timeout=600'];
const APT_TIMEOUT_MS = 10 * 60_000;

/**
 * The path of `program`, installing Debian's `pkg` first when it is missing and this process may
 * (root, apt-get). Returns the reason instead when it cannot, so the caller skips saying why.
 * Arguments go as arrays; nothing passes through a shell.
 */
export function ensureDebianProgram(program: string, pkg: string): { path: string } | { reason: string } {
  const found = findExecutable(program);
  if (found) return { path: found };
  if (process.getuid?.() !== 0) return { reason: `${program} is not installed and this is not root (apt-get install ${pkg})` };
  if (!findExecutable('apt-get')) return { reason: `${program} is not installed and there is no apt-get` };
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => spawnSync('apt-get', [...APT, 'install', '-y', '-qq', '--no-install-recommends', pkg], { env, encoding: 'utf8', timeout: APT_TIMEOUT_MS });
  let result = install();
  if (result.status !== 0) {
    // A fresh machine's package lists may be missing or old.
    spawnSync('apt-get', [...APT, 'update', '-qq'], { env, encoding: 'utf8', timeout: APT_TIMEOUT_MS });
    result = install();
  }
  const path = findExecutable(program);
  if (path) return { path };
  const why = `${result.stderr ?? ''}${result.stdout ?? ''}`.trim().split('\n').slice(-2).join(' / ');
  return { reason: `apt-get install ${pkg} failed (${result.status ?? result.signal}): ${why}` };
}
