import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { updateLayout, versionDir, type UpdateLayout } from './layout.ts';
import { resolveLaunchTarget } from './launch-target.ts';
import { confirmSwap, readMarker, recentlyFailed, rollbackIfStale, swapTo } from './swap.ts';
import { compareVersions } from '@ninjait/shared';

let dir: string;
let layout: UpdateLayout;
let baseDir: string;
const LIMIT_MS = 60_000;

/** A folder that looks like an installed agent version. */
function fakeVersion(path: string, version: string): void {
  mkdirSync(join(path, 'bin'), { recursive: true });
  mkdirSync(join(path, 'lib'), { recursive: true });
  writeFileSync(join(path, 'bin', process.platform === 'win32' ? 'node.exe' : 'node'), '');
  writeFileSync(join(path, 'lib', 'agent.mjs'), '');
  writeFileSync(join(path, 'VERSION'), `${version}\n`);
}
const current = () => (existsSync(layout.currentFile) ? readFileSync(layout.currentFile, 'utf8').trim() : null);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ninjait-swap-'));
  layout = updateLayout(join(dir, 'data'));
  baseDir = join(dir, 'opt');
  fakeVersion(baseDir, '1.0.0');
  mkdirSync(layout.versionsDir, { recursive: true });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('swap and rollback', () => {
  it('swaps from the packaged baseline to an update and back when it never connects', () => {
    fakeVersion(versionDir(layout, '1.1.0'), '1.1.0');
    const marker = swapTo(layout, '1.1.0', 1_000);
    expect(marker).toEqual({ from: null, to: '1.1.0', startedAtMs: 1_000 });
    expect(resolveLaunchTarget(layout, baseDir).version).toBe('1.1.0');

    // Within the limit the trial goes on.
    expect(rollbackIfStale(layout, 1_000 + LIMIT_MS, LIMIT_MS)).toEqual({ rolledBack: null, pending: marker });
    // Past it, back to the baseline, and the bad version is remembered.
    const { rolledBack } = rollbackIfStale(layout, 1_001 + LIMIT_MS, LIMIT_MS);
    expect(rolledBack?.to).toBe('1.1.0');
    expect(current()).toBeNull();
    expect(readMarker(layout)).toBeNull();
    expect(resolveLaunchTarget(layout, baseDir)).toMatchObject({ version: '1.0.0', source: 'package' });
    expect(recentlyFailed(layout, '1.1.0', 2_000 + LIMIT_MS, 10_000)).toBe(true);
    expect(recentlyFailed(layout, '1.1.0', 20_000 + LIMIT_MS, 10_000)).toBe(false);
    expect(existsSync(versionDir(layout, '1.1.0'))).toBe(false);
  });

  it('keeps the previous version on disk and rolls back to it', () => {
    fakeVersion(versionDir(layout, '1.1.0'), '1.1.0');
    swapTo(layout, '1.1.0', 0);
    confirmSwap(layout);
    fakeVersion(versionDir(layout, '1.2.0'), '1.2.0');
    swapTo(layout, '1.2.0', 10_000);
    expect(readFileSync(layout.previousFile, 'utf8').trim()).toBe('1.1.0');
    expect(existsSync(versionDir(layout, '1.1.0'))).toBe(true);

    rollbackIfStale(layout, 10_000 + LIMIT_MS + 1, LIMIT_MS);
    expect(current()).toBe('1.1.0');
    expect(resolveLaunchTarget(layout, baseDir)).toMatchObject({ version: '1.1.0', source: 'update' });
    expect(existsSync(versionDir(layout, '1.2.0'))).toBe(false);
  });

  it('a confirmed update is never rolled back and older unpacked versions are pruned', () => {
    for (const v of ['1.1.0', '1.2.0', '1.3.0']) {
      fakeVersion(versionDir(layout, v), v);
      swapTo(layout, v, 0);
      confirmSwap(layout);
    }
    expect(rollbackIfStale(layout, 10 * LIMIT_MS, LIMIT_MS)).toEqual({ rolledBack: null, pending: null });
    expect(current()).toBe('1.3.0');
    expect(existsSync(versionDir(layout, '1.1.0'))).toBe(false);
    expect(existsSync(versionDir(layout, '1.2.0'))).toBe(true);
  });

  it('drops a marker whose swap never completed (crash between the two writes)', () => {
    writeFileSync(layout.markerFile, JSON.stringify({ from: null, to: '1.1.0', startedAtMs: 0 }));
    expect(rollbackIfStale(layout, 10 * LIMIT_MS, LIMIT_MS)).toEqual({ rolledBack: null, pending: null });
    expect(existsSync(layout.markerFile)).toBe(false);
  });

  it('runs the packaged version when it is newer than the auto-updated one, or the update is not runnable', () => {
    fakeVersion(versionDir(layout, '1.1.0'), '1.1.0');
    swapTo(layout, '1.1.0', 0);
    fakeVersion(baseDir, '2.0.0');
    expect(resolveLaunchTarget(layout, baseDir)).toMatchObject({ version: '2.0.0', source: 'package' });
    fakeVersion(baseDir, '1.0.0');
    rmSync(join(versionDir(layout, '1.1.0'), 'lib', 'agent.mjs'));
    expect(resolveLaunchTarget(layout, baseDir).source).toBe('package');
  });
});

describe('compareVersions', () => {
  it('orders semantic versions numerically, pre-releases first', () => {
    expect(compareVersions('1.10.0', '1.9.9')).toBe(1);
    expect(compareVersions('1.2.3', '1.2.3')).toBe(0);
    expect(compareVersions('1.2.3-rc.1', '1.2.3')).toBe(-1);
    expect(compareVersions('1.2.3-rc.10', '1.2.3-rc.9')).toBe(1);
    expect(compareVersions('0.9.0', '1.0.0')).toBe(-1);
  });
});
