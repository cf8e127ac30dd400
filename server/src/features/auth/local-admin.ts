import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hashSecret, newSecret } from '../../platform/secrets.ts';

export const LOCAL_ADMIN_FILE = 'admin-token';

/**
 * The local CLI's credential: a file only the server's user can read, like Docker's socket.
 * Kept across restarts; returns its hash.
 */
export async function ensureLocalAdminToken(dataDir: string): Promise<string> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, LOCAL_ADMIN_FILE);
  let token = await readFile(path, 'utf8').then((text) => text.trim()).catch(() => '');
  if (!token) {
    token = newSecret('nla_');
    // An older install's wider file is narrowed by the start-up check of DATA_DIR (data-dir.ts).
    await writeFile(path, `${token}\n`, { mode: 0o600 });
  }
  return hashSecret(token);
}

export async function readLocalAdminToken(dataDir: string): Promise<string | null> {
  return readFile(join(dataDir, LOCAL_ADMIN_FILE), 'utf8').then((text) => text.trim() || null).catch(() => null);
}
