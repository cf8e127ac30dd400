import { createPublicKey } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyRelease } from '@ninjait/agent/update';
import { releaseCatalog } from '@ninjait/server/updates/releases';
import { generateReleaseKey, loadOrCreateReleaseKey } from '../../installers/publish/release-key.ts';
import { publishLocal, type PublishEvent } from '../../installers/publish/publish-local.ts';
import { publishRelease } from '../../installers/publish/publish-release.ts';
import { sourceHash } from '../../installers/publish/source-hash.ts';
import { hasCommand } from '../../installers/publish/steps.ts';
import { planTargets } from '../../installers/publish/targets.ts';
import { REPO_ROOT } from '../support/processes.ts';

/**
 * The quick start's package publisher without a build: what it reuses, what it must never
 * replace, how a release lands in the folder a server scans, and what invalidates a build.
 */
describe('local package publishing', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'ninjait-publish-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 }));

  const targets = () => planTargets({ version: '0.1.0', platform: process.platform, arch: process.arch, has: (command) => hasCommand(command) }).targets;
  const run = async (releasesDir: string, workDir: string) => {
    const events: PublishEvent[] = [];
    const ok = await publishLocal({ repo: REPO_ROOT, releasesDir, workDir, version: '0.1.0', signal: new AbortController().signal, emit: (e) => events.push(e) });
    return { ok, events };
  };

  it('publishes a signed release the server lists, replacing its own earlier one atomically', async () => {
    const key = generateReleaseKey(join(dir, 'keys'));
    const releases = join(dir, 'releases');
    const artifact = join(dir, 'ninjait-agent-0.1.0-linux-x64.tar.gz');
    writeFileSync(artifact, 'first build');
    await publishRelease(releases, artifact, { version: '0.1.0', platform: 'linux', arch: 'x64', kind: 'bundle' }, key.privateKey);
    writeFileSync(artifact, 'second, longer build');
    const second = await publishRelease(releases, artifact, { version: '0.1.0', platform: 'linux', arch: 'x64', kind: 'bundle' }, key.privateKey);
    expect(readdirSync(releases).sort()).toEqual(['ninjait-agent-0.1.0-linux-x64.tar.gz', 'ninjait-agent-0.1.0-linux-x64.tar.gz.json']);
    const listed = releaseCatalog(releases).latest({ platform: 'linux', arch: 'x64', kind: 'bundle' });
    expect(listed).toEqual(second);
    expect(verifyRelease(second, createPublicKey(key.publicPem))).toBe(true);
    expect(readFileSync(join(releases, second.file), 'utf8')).toBe('second, longer build');
  });

  it('reuses what it published from the same sources, and never replaces a release another key signed', async () => {
    const releases = join(dir, 'releases');
    const work = join(dir, 'work');
    const ours = loadOrCreateReleaseKey(work);
    const theirs = generateReleaseKey(join(dir, 'theirs'));
    mkdirSync(join(dir, 'artifacts'));
    const publishAll = async (signer: typeof ours) => {
      for (const target of targets()) {
        const file = join(dir, 'artifacts', target.file);
        writeFileSync(file, `${target.kind} by ${signer === ours ? 'us' : 'them'}`);
        await publishRelease(releases, file, { version: '0.1.0', platform: target.platform, arch: target.arch, kind: target.kind }, signer.privateKey);
      }
    };
    await publishAll(theirs);
    const foreign = await run(releases, work);
    expect(foreign.ok).toBe(true);
    const refused = foreign.events.flatMap((e) => (e.event === 'skipped' && /signed by another key/.test(e.reason) ? [e.kind] : []));
    expect(refused).toEqual(targets().map((t) => t.kind));
    expect(foreign.events.some((e) => e.event === 'building')).toBe(false);
    expect(readFileSync(join(releases, targets()[0]!.file), 'utf8')).toMatch(/by them$/);

    // Ours, recorded as built from these sources: a start costs a hash, no build.
    await publishAll(ours);
    const hash = sourceHash(REPO_ROOT, ['0.1.0', process.version, process.platform, process.arch, ours.publicPem]);
    const state = Object.fromEntries(targets().map((t) => {
      const meta = JSON.parse(readFileSync(join(releases, `${t.file}.json`), 'utf8')) as { sha256: string };
      return [t.kind, { hash, file: t.file, sha256: meta.sha256 }];
    }));
    writeFileSync(join(work, 'published.json'), JSON.stringify(state));
    const reused = await run(releases, work);
    expect(reused.events.flatMap((e) => (e.event === 'reused' ? [e.kind] : []))).toEqual(targets().map((t) => t.kind));
    expect(reused.events.some((e) => e.event === 'building')).toBe(false);
  });

  it('changes the source hash with the agent\'s code, the runtime or the key, not with a test', () => {
    const repo = join(dir, 'repo');
    mkdirSync(join(repo, 'agent', 'src'), { recursive: true });
    writeFileSync(join(repo, 'agent', 'src', 'agent.ts'), 'export const a = 1;');
    writeFileSync(join(repo, 'agent', 'src', 'agent.test.ts'), 'test');
    const base = sourceHash(repo, ['0.1.0', 'v20', 'key']);
    writeFileSync(join(repo, 'agent', 'src', 'agent.test.ts'), 'another test');
    expect(sourceHash(repo, ['0.1.0', 'v20', 'key'])).toBe(base);
    expect(sourceHash(repo, ['0.1.0', 'v22', 'key'])).not.toBe(base);
    expect(sourceHash(repo, ['0.1.0', 'v20', 'other key'])).not.toBe(base);
    writeFileSync(join(repo, 'agent', 'src', 'agent.ts'), 'export const a = 2;');
    expect(sourceHash(repo, ['0.1.0', 'v20', 'key'])).not.toBe(base);
  });

  it('says why it cannot build a package here', () => {
    const plan = planTargets({ version: '0.1.0', platform: 'linux', arch: 'x64', has: (command) => command === 'dpkg-deb' });
    expect(plan.targets.map((t) => t.file)).toEqual(['ninjait-agent-0.1.0-linux-x64.tar.gz', 'ninjait-agent_0.1.0_amd64.deb']);
    expect(plan.skipped).toEqual([{ kind: 'rpm', reason: 'rpmbuild not found: apt-get install rpm (Debian, Ubuntu) or dnf install rpm-build, then start again' }]);
    expect(planTargets({ version: '0.1.0', platform: 'darwin', arch: 'arm64', has: () => true }).skipped.map((s) => s.kind)).toEqual(['deb', 'rpm']);
  });
});
