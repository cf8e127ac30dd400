import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { inCheckout } from '../../../platform/checkout.ts';
import { copyFolderInto } from './copy-folder.ts';
import { migrations as codeMigrations, type Migration } from '../migrations/index.ts';

/** What `migrations.json` beside the seed says it holds (server/scripts/pglite-seed.mjs writes it). */
const heldMigrations = z.array(z.object({ version: z.number().int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/) })).max(10_000);
export type HeldMigration = z.infer<typeof heldMigrations>[number];

/**
 * The build's seed (`scripts/build.mjs seed`, server/scripts/pglite-seed.mjs): a PGlite cluster
 * with the migrations applied, as a folder and as a tarball, and the `migrations.json` they hold.
 * Creating a cluster runs initdb inside WebAssembly (7-9 s of CPU on these machines) and the
 * migrations take another 2-4 s: most of a first `npm start` and of every test that opens a new
 * embedded database. From the seed, migrate() finds nothing or only the migrations newer than the
 * seed to apply. No seed when the build did not make one, or made it from migrations this code
 * has edited (the cluster is then initialized and migrated as before).
 */
export const pgliteSeedDir = () => inCheckout('server', 'pglite-seed');
const CLUSTER_DIR = 'cluster';

/**
 * Fills the empty folder `dataDir` with a copy of the seed's cluster folder; false when there is
 * no seed that fits, or the copy failed (`dataDir` is then empty, as it was).
 */
export async function seedPgliteFolder(dataDir: string, seedDir = pgliteSeedDir(), migrations: readonly Migration[] = codeMigrations): Promise<boolean> {
  const cluster = join(seedDir, CLUSTER_DIR);
  if (!existsSync(join(cluster, 'PG_VERSION')) || !await seedFits(seedDir, migrations)) return false;
  try {
    await copyFolderInto(cluster, dataDir);
    return true;
  } catch (error) {
    process.emitWarning(`Could not copy the embedded database seed (${(error as Error).message}): initializing a new database instead`);
    return false;
  }
}

/** The seed as a tarball, for a database in memory (PGlite's `loadDataDir`); null as `seedPgliteFolder` declines. */
export async function readPgliteSeed(seedDir = pgliteSeedDir(), migrations: readonly Migration[] = codeMigrations): Promise<Blob | null> {
  let tarball: Buffer<ArrayBuffer>;
  try {
    tarball = await readFile(join(seedDir, 'pglite.tar.gz'));
  } catch {
    return null;
  }
  return await seedFits(seedDir, migrations) ? new Blob([tarball]) : null;
}

async function seedFits(seedDir: string, migrations: readonly Migration[]): Promise<boolean> {
  const held = await readHeldMigrations(seedDir);
  if (held !== null && seedFitsMigrations(held, migrations)) return true;
  warnStaleSeedOnce();
  return false;
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
