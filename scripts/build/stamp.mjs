import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, sep } from 'node:path';

/**
 * A build stamp, kept in the output folder: the files the build read (repo-relative) and one
 * hash of their contents. Contents, not times: a checkout, a copy or a clock never fools it.
 * @typedef {{ inputs: string[]; hash: string }} Stamp
 */

export const STAMP_FILE = '.build-stamp.json';

/** One hash over the inputs' paths and contents; a missing input hashes as missing. */
export function hashInputs(/** @type {string} */ repo, /** @type {readonly string[]} */ inputs) {
  const hash = createHash('sha256');
  for (const input of [...new Set(inputs)].sort()) {
    const path = join(repo, input);
    hash.update(`${input}\0`);
    hash.update(existsSync(path) && statSync(path).isFile() ? readFileSync(path) : '\0missing');
    hash.update('\0');
  }
  return hash.digest('hex');
}

/** @returns {Stamp | null} */
export function readStamp(/** @type {string} */ outdir) {
  try {
    const stamp = JSON.parse(readFileSync(join(outdir, STAMP_FILE), 'utf8'));
    return Array.isArray(stamp.inputs) && typeof stamp.hash === 'string' ? stamp : null;
  } catch {
    return null;
  }
}

export function writeStamp(/** @type {string} */ repo, /** @type {string} */ outdir, /** @type {string[]} */ inputs) {
  /** @type {Stamp} */
  const stamp = { inputs: [...new Set(inputs)].sort(), hash: hashInputs(repo, inputs) };
  writeFileSync(join(outdir, STAMP_FILE), `${JSON.stringify(stamp)}\n`);
}

/** Whether `outdir` holds a build of exactly these inputs (plus those the last build recorded). */
export function isUpToDate(/** @type {string} */ repo, /** @type {string} */ outdir, /** @type {readonly string[]} */ inputs) {
  const stamp = readStamp(outdir);
  return stamp !== null && inputs.every((input) => stamp.inputs.includes(input)) && hashInputs(repo, stamp.inputs) === stamp.hash;
}

/** Every file under the given repo-relative files and folders, repo-relative with `/` (as esbuild writes them), tests left out. */
export function listFiles(/** @type {string} */ repo, /** @type {readonly string[]} */ paths) {
  /** @type {string[]} */
  const files = [];
  const visit = (/** @type {string} */ relativePath) => {
    const path = join(repo, relativePath);
    if (!existsSync(path)) return;
    if (!statSync(path).isDirectory()) {
      if (!/\.test\.tsx?$/.test(relativePath)) files.push(relativePath.split(sep).join('/'));
      return;
    }
    for (const name of readdirSync(path)) visit(join(relativePath, name));
  };
  paths.forEach(visit);
  return files;
}
