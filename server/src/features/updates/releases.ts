import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { compareVersions, releaseSchema, type Release, type ReleaseQuery } from '@ninjait/shared';

// One signed artifact as `installers/sign.ts` writes it (`<file>.json` beside `<file>`): the
// schema and the version order are the protocol's, shared with the agent that verifies it.
export { compareVersions, releaseSchema, type Release, type ReleaseQuery } from '@ninjait/shared';

export interface ReleaseCatalog {
  dir: string;
  list(): Release[];
  /** The highest version for a platform, architecture and kind. */
  latest(query: ReleaseQuery): Release | null;
  /** The absolute path of a listed artifact; null for anything else, so no other file is ever served. */
  pathOf(file: string): string | null;
  /** Forgets the last scan: the next read sees a release this process just published. */
  refresh(): void;
}

/** A new release is picked up within this long, without a restart. */
const RESCAN_MS = 5_000;

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
    refresh: () => {
      scannedAt = -Infinity;
    },
  };
  catalogs.set(abs, catalog);
  return catalog;
}

/** Where releases live for this configuration. */
export const releasesDir = (env: { RELEASES_DIR?: string | undefined; DATA_DIR: string }) => env.RELEASES_DIR ?? join(env.DATA_DIR, 'releases');

/** The download path the server answers for an artifact. */
export const downloadPath = (release: Release) => `/downloads/agent/${encodeURIComponent(release.file)}`;
