import { rmSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { downloadVerified, IntegrityError, unpackBundle } from './download.ts';
import { ensureLayout, isRunnable, versionDir, writeFileAtomic, type PendingMarker, type UpdateLayout } from './layout.ts';
import { verifyRelease } from './release.ts';
import { fetchOffer } from './server-api.ts';
import { recentlyFailed, swapTo } from './swap.ts';
import { isNewer } from '@ninjait/shared';
import type { FetchLike } from '../link/node-fetch.ts';

export interface CheckOptions {
  server: string;
  layout: UpdateLayout;
  currentVersion: string;
  platform: NodeJS.Platform;
  arch: string;
  publicKey: KeyObject;
  nowMs: number;
  /** A version that was rolled back is not retried before this long. */
  retryFailedAfterMs: number;
  fetch?: FetchLike;
}

export type CheckOutcome =
  | { status: 'up-to-date'; version: string }
  | { status: 'skipped'; version: string; reason: string }
  | { status: 'refused'; version: string; reason: string }
  | { status: 'installed'; version: string; marker: PendingMarker }
  | { status: 'error'; reason: string };

/**
 * One update check: ask, verify the signature of what is offered, download, verify the bytes,
 * unpack, swap. Nothing unverified is ever unpacked or run. Failures are returned, not thrown.
 */
export async function checkForUpdate(opts: CheckOptions): Promise<CheckOutcome> {
  const outcome = await check(opts).catch((err: unknown): CheckOutcome =>
    err instanceof IntegrityError
      ? { status: 'refused', version: '?', reason: err.message }
      : { status: 'error', reason: (err as Error).message });
  try {
    ensureLayout(opts.layout);
    writeFileAtomic(opts.layout.stateFile, `${JSON.stringify({ checkedAtMs: opts.nowMs, currentVersion: opts.currentVersion, ...outcome })}\n`);
  } catch {
    // The state file is for people; an unwritable one must not stop updates.
  }
  return outcome;
}

async function check(opts: CheckOptions): Promise<CheckOutcome> {
  const fetchImpl = opts.fetch ?? fetch;
  const offer = await fetchOffer(opts.server, { platform: opts.platform, arch: opts.arch, version: opts.currentVersion }, fetchImpl);
  const release = offer.release;
  if (!release || !offer.url || !isNewer(release.version, opts.currentVersion)) return { status: 'up-to-date', version: opts.currentVersion };
  if (release.kind !== 'bundle' || release.platform !== opts.platform || release.arch !== opts.arch) {
    return { status: 'refused', version: release.version, reason: `offered a ${release.kind} for ${release.platform}-${release.arch}` };
  }
  if (!verifyRelease(release, opts.publicKey)) {
    return { status: 'refused', version: release.version, reason: 'Ed25519 signature does not verify against the installed update key' };
  }
  if (recentlyFailed(opts.layout, release.version, opts.nowMs, opts.retryFailedAfterMs)) {
    return { status: 'skipped', version: release.version, reason: 'this version was rolled back recently' };
  }
  ensureLayout(opts.layout);
  const url = new URL(offer.url, opts.server);
  let archive: string;
  try {
    archive = await downloadVerified(url, release, opts.layout.downloadsDir, fetchImpl);
  } catch (err) {
    if (err instanceof IntegrityError) return { status: 'refused', version: release.version, reason: err.message };
    throw err;
  }
  try {
    const dest = versionDir(opts.layout, release.version);
    await unpackBundle(archive, dest);
    if (!isRunnable(dest, opts.platform)) {
      rmSync(dest, { recursive: true, force: true });
      return { status: 'refused', version: release.version, reason: 'bundle has no bin/node and lib/agent.mjs' };
    }
  } finally {
    rmSync(archive, { force: true });
  }
  return { status: 'installed', version: release.version, marker: swapTo(opts.layout, release.version, opts.nowMs) };
}
