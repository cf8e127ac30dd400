import { createPublicKey } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { verifyRelease, type Release } from '@ninjait/agent/update';
import { loadOrCreateReleaseKey } from './release-key.ts';
import { isPublishedBy, publishRelease, readRelease } from './publish-release.ts';
import { sourceHash } from './source-hash.ts';
import { hasCommand, runStep } from './steps.ts';
import { planTargets, type LocalKind, type Target } from './targets.ts';

/** One line of progress; the quick start logs each. */
export type PublishEvent =
  | { event: 'reused'; kind: LocalKind; file: string }
  | { event: 'building'; kinds: LocalKind[] }
  | { event: 'published'; kind: LocalKind; file: string; version: string; seconds: number }
  | { event: 'skipped'; kind: LocalKind; reason: string }
  | { event: 'failed'; kind: LocalKind; reason: string };

export interface PublishLocalOptions {
  /** The repository checkout the packages are built from. */
  repo: string;
  /** Where the server looks for releases (RELEASES_DIR). */
  releasesDir: string;
  /** Kept between runs: the release key and what was published from which sources. */
  workDir: string;
  version: string;
  signal: AbortSignal;
  emit(event: PublishEvent): void;
}

const STATE_FILE = 'published.json';
const stateSchema = z.record(z.string(), z.object({ hash: z.string(), file: z.string(), sha256: z.string() }));
type State = z.infer<typeof stateSchema>;

function readState(workDir: string): State {
  try {
    return stateSchema.parse(JSON.parse(readFileSync(join(workDir, STATE_FILE), 'utf8')));
  } catch {
    return {};
  }
}

function writeState(workDir: string, state: State): void {
  const path = join(workDir, STATE_FILE);
  writeFileSync(`${path}.partial`, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(`${path}.partial`, path);
}

/**
 * Builds the agent packages this machine can build (the bundle, a .deb with dpkg-deb, an .rpm
 * with rpmbuild), signs them with the key in `workDir` (made on first use; every package carries
 * its public half, so auto-update trusts what this key signs) and publishes them into
 * `releasesDir`. Packages whose sources, runtime and key have not changed since they were
 * published are reused, so a second run costs a hash of the sources. Never replaces a release
 * someone else signed. Returns true when nothing failed.
 */
export async function publishLocal(opts: PublishLocalOptions): Promise<boolean> {
  const { repo, releasesDir, workDir, version, signal, emit } = opts;
  mkdirSync(workDir, { recursive: true, mode: 0o700 });
  const key = loadOrCreateReleaseKey(workDir);
  const publicKey = createPublicKey(key.publicPem);
  const { targets, skipped } = planTargets({ version, platform: process.platform, arch: process.arch, has: (command) => hasCommand(command) });
  for (const skip of skipped) emit({ event: 'skipped', ...skip });

  const hash = sourceHash(repo, [version, process.version, process.platform, process.arch, key.publicPem]);
  const state = readState(workDir);
  const signedByOther = (release: Release | null) => release !== null && !verifyRelease(release, publicKey);
  const needed: Target[] = [];
  for (const target of targets) {
    const done = state[target.kind];
    if (done?.hash === hash && done.file === target.file && isPublishedBy(releasesDir, target.file, publicKey, done.sha256)) emit({ event: 'reused', kind: target.kind, file: target.file });
    else if (signedByOther(readRelease(releasesDir, target.file))) {
      emit({ event: 'skipped', kind: target.kind, reason: `${join(releasesDir, target.file)} is signed by another key: left as it is` });
    } else needed.push(target);
  }
  if (needed.length === 0) return true;

  emit({ event: 'building', kinds: needed.map((target) => target.kind) });
  // Outside workDir: what a package holds is readable by all, and the server's DATA_DIR must not
  // hold such files. Every temporary file of every step lands here; it is removed however this ends.
  const build = mkdtempSync(join(tmpdir(), 'ninjait-packages-'));
  mkdirSync(join(build, 'tmp'));
  mkdirSync(join(build, 'out'));
  const env = { ...process.env, TMPDIR: join(build, 'tmp') };
  const started = Date.now();
  let ok = true;
  try {
    const bundle = needed.find((target) => target.kind === 'bundle');
    try {
      await runStep({
        name: 'the bundle build', command: process.execPath, cwd: repo, env,
        args: ['--import', 'tsx', 'installers/build-bundle.ts', '--version', version, '--out', join(build, 'bundle'),
          ...(bundle ? ['--tar', join(build, 'out', bundle.file)] : [])],
      }, signal);
    } catch (err) {
      for (const target of needed) emit({ event: 'failed', kind: target.kind, reason: (err as Error).message });
      return false;
    }
    for (const target of needed) {
      signal.throwIfAborted();
      try {
        if (target.kind !== 'bundle') {
          await runStep({
            name: `the .${target.kind} build`, command: 'bash', cwd: repo, env,
            args: ['installers/linux/build.sh', '--version', version, '--update-key', key.publicPath, '--out', join(build, 'out'),
              '--bundle', join(build, 'bundle'), target.kind === 'deb' ? '--no-rpm' : '--no-deb'],
          }, signal);
        }
        const facts = { version, platform: target.platform, arch: target.arch, kind: target.kind };
        const release = await publishRelease(releasesDir, join(build, 'out', target.file), facts, key.privateKey);
        const previous = state[target.kind];
        state[target.kind] = { hash, file: release.file, sha256: release.sha256 };
        writeState(workDir, state);
        if (previous && previous.file !== release.file) removeRelease(releasesDir, previous.file);
        emit({ event: 'published', kind: target.kind, file: release.file, version, seconds: Math.round((Date.now() - started) / 1000) });
      } catch (err) {
        if (signal.aborted) throw err;
        ok = false;
        emit({ event: 'failed', kind: target.kind, reason: (err as Error).message });
      }
    }
    return ok;
  } finally {
    rmSync(build, { recursive: true, force: true });
  }
}

/** Withdraws an older release of ours (a previous version): the listing first, then the file. */
function removeRelease(releasesDir: string, file: string): void {
  rmSync(join(releasesDir, `${file}.json`), { force: true });
  if (existsSync(join(releasesDir, file))) rmSync(join(releasesDir, file), { force: true });
}
