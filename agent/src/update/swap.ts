import { existsSync, rmSync } from 'node:fs';
import { z } from 'zod';
import { markerSchema, pruneVersions, readJson, readText, writeFileAtomic, type PendingMarker, type UpdateLayout } from './layout.ts';

const failedSchema = z.record(z.string(), z.number());

/**
 * Makes `version` (already unpacked under versions/) the one to run. The marker is written
 * first: if we crash between the two writes, the next start sees a marker whose target is
 * not current and drops it, which is harmless.
 */
export function swapTo(layout: UpdateLayout, version: string, nowMs: number): PendingMarker {
  const from = readText(layout.currentFile);
  const marker: PendingMarker = { from, to: version, startedAtMs: nowMs };
  writeFileAtomic(layout.markerFile, `${JSON.stringify(marker)}\n`);
  if (from) writeFileAtomic(layout.previousFile, `${from}\n`);
  else rmSync(layout.previousFile, { force: true });
  writeFileAtomic(layout.currentFile, `${version}\n`);
  pruneVersions(layout, [version, from]);
  return marker;
}

export function readMarker(layout: UpdateLayout): PendingMarker | null {
  return readJson(layout.markerFile, markerSchema);
}

/** The new version proved itself: forget the marker (the previous version stays on disk). */
export function confirmSwap(layout: UpdateLayout): PendingMarker | null {
  const marker = readMarker(layout);
  rmSync(layout.markerFile, { force: true });
  return marker;
}

/** Goes back to the version that ran before the pending swap and remembers the bad one. */
export function rollback(layout: UpdateLayout, nowMs: number): PendingMarker | null {
  const marker = readMarker(layout);
  if (!marker) return null;
  if (marker.from) writeFileAtomic(layout.currentFile, `${marker.from}\n`);
  else rmSync(layout.currentFile, { force: true });
  rmSync(layout.previousFile, { force: true });
  const failed = readJson(layout.failedFile, failedSchema) ?? {};
  failed[marker.to] = nowMs;
  writeFileAtomic(layout.failedFile, `${JSON.stringify(failed)}\n`);
  rmSync(layout.markerFile, { force: true });
  pruneVersions(layout, [marker.from]);
  return marker;
}

/**
 * Called before every start. A marker older than `limitMs` means the new version never
 * connected (it hung, crashed in a loop, or the machine rebooted mid-trial): roll back.
 * A marker whose target is no longer current is stale bookkeeping and is dropped.
 */
export function rollbackIfStale(layout: UpdateLayout, nowMs: number, limitMs: number): { rolledBack: PendingMarker | null; pending: PendingMarker | null } {
  const marker = readMarker(layout);
  if (!marker) {
    if (existsSync(layout.markerFile)) rmSync(layout.markerFile, { force: true });
    return { rolledBack: null, pending: null };
  }
  if (readText(layout.currentFile) !== marker.to) {
    rmSync(layout.markerFile, { force: true });
    return { rolledBack: null, pending: null };
  }
  if (nowMs - marker.startedAtMs > limitMs) return { rolledBack: rollback(layout, nowMs), pending: null };
  return { rolledBack: null, pending: marker };
}

/** A version rolled back less than `retryAfterMs` ago is not installed again. */
export function recentlyFailed(layout: UpdateLayout, version: string, nowMs: number, retryAfterMs: number): boolean {
  const failedAt = readJson(layout.failedFile, failedSchema)?.[version];
  return failedAt !== undefined && nowMs - failedAt < retryAfterMs;
}
