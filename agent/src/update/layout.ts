import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writePrivateFileAtomic } from '../util/private-files.ts';

/**
 * Where updates live: `<dataDir>/agent`. The packaged version (e.g. /opt/ninjait) stays
 * read-only and is the baseline; updates are unpacked under `versions/<version>` and the
 * `current` file names the one to run. Pointer files (not symlinks) work the same on Windows.
 */
export interface UpdateLayout {
  root: string;
  versionsDir: string;
  downloadsDir: string;
  /** Text file: the version to run; absent means the packaged baseline. */
  currentFile: string;
  /** Text file: the version that ran before the last swap (kept on disk for rollback). */
  previousFile: string;
  /** JSON, written before the restart into a new version and removed once it has connected. */
  markerFile: string;
  /** JSON map version -> ms when it was rolled back, so a bad version is not retried at once. */
  failedFile: string;
  /** JSON: the last check's outcome, for `status` and for people debugging. */
  stateFile: string;
}

export function updateLayout(dataDir: string): UpdateLayout {
  const root = join(dataDir, 'agent');
  return {
    root, versionsDir: join(root, 'versions'), downloadsDir: join(root, 'downloads'),
    currentFile: join(root, 'current'), previousFile: join(root, 'previous'),
    markerFile: join(root, 'update-pending.json'), failedFile: join(root, 'failed.json'), stateFile: join(root, 'update-state.json'),
  };
}

export const markerSchema = z.object({
  /** null: the packaged baseline ran before. */
  from: z.string().nullable(),
  to: z.string(),
  startedAtMs: z.number(),
});
export type PendingMarker = z.infer<typeof markerSchema>;

/** Writes through a temp file, fsync and rename: a crash leaves the old or the new file, never half. */
export const writeFileAtomic = writePrivateFileAtomic;

export function readText(file: string): string | null {
  if (!existsSync(file)) return null;
  const text = readFileSync(file, 'utf8').trim();
  return text === '' ? null : text;
}

export function readJson<T>(file: string, schema: z.ZodType<T>): T | null {
  const text = readText(file);
  if (text === null) return null;
  try {
    const parsed = schema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export const versionDir = (layout: UpdateLayout, version: string) => join(layout.versionsDir, version);

/** The folder holds an agent that can be started: its runtime and its bundle are there. */
export function isRunnable(dir: string, platform: NodeJS.Platform = process.platform): boolean {
  return existsSync(join(dir, 'lib', 'agent.mjs')) && existsSync(nodeBinary(dir, platform));
}

export const nodeBinary = (dir: string, platform: NodeJS.Platform = process.platform) =>
  join(dir, 'bin', platform === 'win32' ? 'node.exe' : 'node');

export function ensureLayout(layout: UpdateLayout): void {
  for (const dir of [layout.root, layout.versionsDir, layout.downloadsDir]) mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/** Removes unpacked versions other than the ones named (current, previous, pending). */
export function pruneVersions(layout: UpdateLayout, keep: Array<string | null>): string[] {
  if (!existsSync(layout.versionsDir)) return [];
  const removed: string[] = [];
  for (const name of readdirSync(layout.versionsDir)) {
    if (keep.includes(name)) continue;
    rmSync(join(layout.versionsDir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}
