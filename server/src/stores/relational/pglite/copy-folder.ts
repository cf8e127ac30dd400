import { chmod, constants, copyFile, mkdir, readdir, rename, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';

const OWNER_ONLY_DIR = 0o700;
const OWNER_ONLY_FILE = 0o600;

/**
 * Replaces the empty folder `to` with a copy of `from`, every file and folder owner-only (the
 * seed's files carry whatever modes the build left, and copyFile keeps them). The copy is made
 * beside `to` and renamed into place: a start killed meanwhile leaves `to` empty or absent,
 * seeded again at the next start, never half a cluster PGlite would resume. On failure `to` is
 * left empty and the error thrown.
 */
export async function copyFolderInto(from: string, to: string): Promise<void> {
  // A fixed name: what a killed copy left is removed by the next one.
  const staging = `${to}.seeding`;
  await rm(staging, { recursive: true, force: true });
  try {
    await mkdir(staging, { mode: OWNER_ONLY_DIR });
    await chmod(staging, OWNER_ONLY_DIR);
    await copyTree(from, staging);
    // Fails unless `to` is still an empty folder of its own (not a mount point or a link).
    await rmdir(to);
    await rename(staging, to);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    await mkdir(to, { recursive: true, mode: OWNER_ONLY_DIR });
    throw error;
  }
}

async function copyTree(from: string, to: string): Promise<void> {
  const entries = await readdir(from, { withFileTypes: true });
  // Every sibling is waited for, failed or not, before a failure goes up: with Promise.all the
  // caller's clean-up ran while other copies still wrote into the staging folder, and its rm
  // failed (ENOTEMPTY) in place of the real error, leaving the folder behind.
  const settled = await Promise.allSettled(entries.map(async (entry) => {
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isDirectory()) {
      await mkdir(target, { mode: OWNER_ONLY_DIR });
      await chmod(target, OWNER_ONLY_DIR);
      await copyTree(source, target);
    } else if (entry.isFile()) {
      // A clone where the filesystem can (btrfs, XFS, APFS): no bytes written until PostgreSQL changes a page.
      await copyFile(source, target, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
      await chmod(target, OWNER_ONLY_FILE);
    } else {
      throw new Error(`${source} is neither a file nor a folder`);
    }
  }));
  const failed = settled.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
}
