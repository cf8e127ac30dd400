import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';

/**
 * One signed artifact as `installers/sign.ts` writes it (`<file>.json` beside `<file>`).
 * The server only serves these; agents verify the signature against their installed key,
 * so the server never needs the key and a compromised server cannot forge an update.
 * Mirrors agent/src/update/release.ts (the agent does not import server code).
 */
export const releaseSchema = z.object({
  version: z.string().regex(/^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/),
  platform: z.enum(['linux', 'darwin', 'win32']),
  arch: z.string().regex(/^[a-z0-9_]{1,16}$/),
  kind: z.enum(['bundle', 'deb', 'rpm', 'pkg', 'msi']),
  file: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._+-]{0,199}$/),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().positive(),
  signature: z.string().min(1).max(200),
});
export type Release = z.infer<typeof releaseSchema>;
export type ReleaseQuery = Pick<Release, 'platform' | 'arch' | 'kind'>;

export interface ReleaseCatalog {
  dir: string;
  list(): Release[];
  /** The highest version for a platform, architecture and kind. */
  latest(query: ReleaseQuery): Release | null;
  /** The absolute path of a listed artifact; null for anything else, so no other file is ever served. */
  pathOf(file: string): string | null;
}

/** A new release is picked up within this long, without a restart. */
const RESCAN_MS = 5_000;

/** Compares semantic versions; a pre-release sorts before its release. */
export function compareVersions(a: string, b: string): number {
  const [coreA = '', preA] = a.split(/-(.*)/s);
  const [coreB = '', preB] = b.split(/-(.*)/s);
  const pa = coreA.split('.').map(Number);
  const pb = coreB.split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return Math.sign((pa[i] ?? 0) - (pb[i] ?? 0));
  if (!preA || !preB) return preA === preB || (!preA && !preB) ? 0 : preA ? -1 : 1;
  return preA.localeCompare(preB, 'en', { numeric: true });
}

function scan(dir: string): Release[] {
  if (!existsSync(dir)) return [];
  const found: Release[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.json')) continue;
    try {
      const release = releaseSchema.parse(JSON.parse(readFileSync(join(dir, name), 'utf8')));
      // Only metadata that names the file beside it, and only when that file exists with the signed size.
      if (name !== `${release.file}.json`) continue;
      if (statSync(join(dir, release.file)).size !== release.size) continue;
      found.push(release);
    } catch {
      // Half-copied or foreign files are ignored; the next scan sees them complete.
    }
  }
  return found.sort((a, b) => compareVersions(b.version, a.version));
}

const catalogs = new Map<string, ReleaseCatalog>();

/** The releases in `dir`, rescanned at most every few seconds; one catalog per folder. */
export function releaseCatalog(dir: string): ReleaseCatalog {
  const abs = resolve(dir);
  const known = catalogs.get(abs);
  if (known) return known;
  let cached: Release[] = [];
  let scannedAt = -Infinity;
  const list = () => {
    if (Date.now() - scannedAt > RESCAN_MS) {
      cached = scan(abs);
      scannedAt = Date.now();
    }
    return cached;
  };
  const catalog: ReleaseCatalog = {
    dir: abs,
    list,
    latest: (q) => list().find((r) => r.platform === q.platform && r.arch === q.arch && r.kind === q.kind) ?? null,
    pathOf: (file) => (list().some((r) => r.file === file) ? join(abs, file) : null),
  };
  catalogs.set(abs, catalog);
  return catalog;
}

/** Where releases live for this configuration. */
export const releasesDir = (env: { RELEASES_DIR?: string | undefined; DATA_DIR: string }) => env.RELEASES_DIR ?? join(env.DATA_DIR, 'releases');

/** The download path the server answers for an artifact. */
export const downloadPath = (release: Release) => `/downloads/agent/${encodeURIComponent(release.file)}`;
