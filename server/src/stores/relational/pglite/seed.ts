import { createHash } from 'node:crypto';
import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { inCheckout } from '../../../platform/checkout.ts';
import { migrations as codeMigrations, type Migration } from '../migrations/index.ts';

/** What `migrations.json` beside the seed says it holds (server/scripts/pglite-seed.mjs writes it). */
const heldMigrations = z.array(z.object({ version: z.number().int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/) })).max(10_000);
export type HeldMigration = z.infer<typeof heldMigrations>[number];

/**
 * A PGlite cluster with the migrations applied, packed by the build (`scripts/build.mjs seed`).
 * Creating a cluster runs initdb inside WebAssembly (7-9 s of CPU on these machines) and the
 * migrations take another 2-4 s: most of a first `npm start` and of every test that opens a new
 * embedded database. Unpacking the seed takes about 1.5 s, and migrate() then finds nothing or
 * only the migrations newer than the seed to apply. Null when the build did not make one, or made
 * it from migrations this code has edited (the cluster is then initialized and migrated as before).
 */
export async function readPgliteSeed(migrations: readonly Migration[] = codeMigrations): Promise<Blob | null> {
  const dir = inCheckout('server', 'pglite-seed');
  let tarball: Buffer<ArrayBuffer>;
  try {
    tarball = await readFile(join(dir, 'pglite.tar.gz'));
  } catch {
    return null;
  }
  const held = await readHeldMigrations(dir);
  if (held === null || !seedFitsMigrations(held, migrations)) {
    warnStaleSeedOnce();
    return null;
  }
  return new Blob([tarball]);
}

/**
 * Whether a seed holding `held` can start a database for code with `migrations`: every migration
 * it holds is one of the code's, with the same SQL. The code may have newer ones (migrate()
 * applies them); a migration edited since the seed was built (one not released yet, in a
 * checkout) or unknown to the code would leave a schema the code does not describe.
 */
export function seedFitsMigrations(held: readonly HeldMigration[], migrations: readonly Migration[]): boolean {
  const sqlHashes = new Map(migrations.map((migration) => [migration.version, sha256(migration.sql)]));
  return held.every(({ version, sha256: hash }) => sqlHashes.get(version) === hash);
}

/** Null when the list is unreadable; none when there is no list (a seed of a bare cluster, from before seeds were migrated). */
async function readHeldMigrations(dir: string): Promise<HeldMigration[] | null> {
  let text: string;
  try {
    text = await readFile(join(dir, 'migrations.json'), 'utf8');
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? [] : null;
  }
  try {
    const parsed = heldMigrations.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

let warned = false;
/** Once per process: every fresh embedded database pays initdb and all migrations until the seed is rebuilt. */
function warnStaleSeedOnce() {
  if (warned) return;
  warned = true;
  process.emitWarning('The embedded database seed (server/pglite-seed) holds migrations this code has changed: new databases are initialized without it. Rebuild it: node scripts/build.mjs seed');
}

/** Only a folder with nothing in it is seeded: an existing cluster, whole or not, is never touched. */
export async function isEmptyFolder(dir: string): Promise<boolean> {
  return (await readdir(dir)).length === 0;
}

/** Removes what a failed seeding wrote (the folder was empty before it), keeping the folder. */
export async function emptyFolder(dir: string): Promise<void> {
  await Promise.all((await readdir(dir)).map((name) => rm(join(dir, name), { recursive: true, force: true })));
}
