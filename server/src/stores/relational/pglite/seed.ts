import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { inCheckout } from '../../../platform/checkout.ts';

/**
 * A PGlite cluster with the migrations applied, packed by the build (`scripts/build.mjs seed`).
 * Creating a cluster runs initdb inside WebAssembly (7-9 s of CPU on these machines) and the
 * migrations take another 2-4 s: most of a first `npm start` and of every test that opens a new
 * embedded database. Unpacking the seed takes about 1.5 s, and migrate() then finds nothing or
 * only the migrations newer than the seed to apply. Null when the build did not make one (the
 * cluster is then initialized and migrated as before).
 */
export async function readPgliteSeed(): Promise<Blob | null> {
  try {
    return new Blob([await readFile(inCheckout('server', 'pglite-seed', 'pglite.tar.gz'))]);
  } catch {
    return null;
  }
}

/** Only a folder with nothing in it is seeded: an existing cluster, whole or not, is never touched. */
export async function isEmptyFolder(dir: string): Promise<boolean> {
  return (await readdir(dir)).length === 0;
}

/** Removes what a failed seeding wrote (the folder was empty before it), keeping the folder. */
export async function emptyFolder(dir: string): Promise<void> {
  await Promise.all((await readdir(dir)).map((name) => rm(join(dir, name), { recursive: true, force: true })));
}
