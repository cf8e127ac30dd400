import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONFIG_FILE } from '../config/paths.ts';

/** This checkout's root when the agent runs from source (agent/src/cli → ../../..); null in a package. */
function checkoutRoot(): string | null {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  return existsSync(join(root, 'package.json')) && existsSync(join(root, 'agent', 'package.json')) ? root : null;
}

/**
 * Where the quick start (`npm start`) keeps its local agent: `<DATA_DIR>/agent`, DATA_DIR being
 * `./data` where it ran, normally the checkout's root. Listed for `status` to look in when the
 * platform's default folder holds no enrollment.
 */
export function quickStartDataDirs(cwd: string): string[] {
  const root = checkoutRoot();
  return [...new Set([join(cwd, 'data', 'agent'), ...(root ? [join(root, 'data', 'agent')] : [])])];
}

/** The first of `dirs` holding an enrollment. */
export function findEnrolledDir(dirs: readonly string[]): string | null {
  return dirs.find((dir) => existsSync(join(dir, CONFIG_FILE))) ?? null;
}
