import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { updateLayout, versionDir, type UpdateLayout } from './layout.ts';
import { signRelease, type Release } from './release.ts';
import { readMarker } from './swap.ts';
import { checkForUpdate, type CheckOptions } from './updater.ts';

let dir: string;
let layout: UpdateLayout;
let server: Server;
let serverUrl: string;
/** What the fake server offers and serves; tests change it. */
let offered: { release: Release | null; bytes: Buffer };
const publisher = generateKeyPairSync('ed25519');

/** A real tar.gz that looks like an agent version. */
function makeBundle(version: string, withAgent = true): Buffer {
  const src = join(dir, `src-${version}`);
  mkdirSync(join(src, 'bin'), { recursive: true });
  mkdirSync(join(src, 'lib'), { recursive: true });
  writeFileSync(join(src, 'bin', process.platform === 'win32' ? 'node.exe' : 'node'), '#!/bin/sh\n');
  if (withAgent) writeFileSync(join(src, 'lib', 'agent.mjs'), 'export {};\n');
  writeFileSync(join(src, 'VERSION'), `${version}\n`);
  const out = join(dir, `bundle-${version}.tar.gz`);
  execFileSync('tar', ['-czf', out, '-C', src, '.']);
  return readFileSync(out);
}

function offer(version: string, bytes: Buffer, key: KeyObject = publisher.privateKey): void {
  const release = signRelease({
    version, platform: process.platform as Release['platform'], arch: process.arch, kind: 'bundle',
    file: `ninjait-agent-${version}.tar.gz`, sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length,
  }, key);
  offered = { release, bytes };
}

const options = (over: Partial<CheckOptions> = {}): CheckOptions => ({
  server: serverUrl, layout, currentVersion: '1.0.0', platform: process.platform, arch: process.arch,
  publicKey: publisher.publicKey, nowMs: 1_000, retryFailedAfterMs: 60_000, ...over,
});

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ninjait-updater-'));
  layout = updateLayout(join(dir, 'data'));
  offered = { release: null, bytes: Buffer.alloc(0) };
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/trpc/updates.check') {
      const release = offered.release;
      res.setHeader('content-type', 'application/json');
      return res.end(JSON.stringify({ result: { data: { release, url: release ? `/downloads/agent/${release.file}` : null } } }));
    }
    if (offered.release && url.pathname === `/downloads/agent/${offered.release.file}`) return res.end(offered.bytes);
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  serverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe('checkForUpdate', () => {
  it('downloads, verifies, unpacks and swaps to a newer signed version', async () => {
    offer('1.1.0', makeBundle('1.1.0'));
    const outcome = await checkForUpdate(options());
    expect(outcome).toMatchObject({ status: 'installed', version: '1.1.0' });
    expect(readFileSync(layout.currentFile, 'utf8').trim()).toBe('1.1.0');
    expect(readFileSync(join(versionDir(layout, '1.1.0'), 'VERSION'), 'utf8').trim()).toBe('1.1.0');
    expect(readMarker(layout)).toMatchObject({ from: null, to: '1.1.0' });
    expect(JSON.parse(readFileSync(layout.stateFile, 'utf8'))).toMatchObject({ status: 'installed' });
  });

  it('stays put when the offer is not newer', async () => {
    offer('1.0.0', makeBundle('1.0.0'));
    expect(await checkForUpdate(options())).toMatchObject({ status: 'up-to-date' });
    expect(existsSync(layout.currentFile)).toBe(false);
  });

  it('refuses a release signed with another key, before downloading it', async () => {
    const attacker = generateKeyPairSync('ed25519');
    offer('1.1.0', makeBundle('1.1.0'), attacker.privateKey);
    const outcome = await checkForUpdate(options());
    expect(outcome).toMatchObject({ status: 'refused', version: '1.1.0' });
    expect(existsSync(versionDir(layout, '1.1.0'))).toBe(false);
    expect(existsSync(layout.currentFile)).toBe(false);
  });

  it('refuses bytes that differ from the signed hash and unpacks nothing', async () => {
    const good = makeBundle('1.1.0');
    offer('1.1.0', good);
    const evil = Buffer.from(good);
    evil[evil.length - 1] = evil[evil.length - 1]! ^ 0xff;
    offered.bytes = evil;
    const outcome = await checkForUpdate(options());
    expect(outcome).toMatchObject({ status: 'refused', reason: expect.stringMatching(/SHA-256/) });
    expect(existsSync(versionDir(layout, '1.1.0'))).toBe(false);
    expect(existsSync(join(layout.downloadsDir, 'ninjait-agent-1.1.0.tar.gz.part'))).toBe(false);
  });

  it('refuses a signed bundle without an agent in it', async () => {
    offer('1.1.0', makeBundle('1.1.0', false));
    expect(await checkForUpdate(options())).toMatchObject({ status: 'refused', reason: expect.stringMatching(/agent\.mjs/) });
    expect(existsSync(layout.currentFile)).toBe(false);
  });

  it('does not retry a version that was rolled back recently', async () => {
    offer('1.1.0', makeBundle('1.1.0'));
    mkdirSync(layout.root, { recursive: true });
    writeFileSync(layout.failedFile, JSON.stringify({ '1.1.0': 500 }));
    expect(await checkForUpdate(options())).toMatchObject({ status: 'skipped' });
    expect(await checkForUpdate(options({ nowMs: 500 + 60_001 }))).toMatchObject({ status: 'installed' });
  });

  it('reports an unreachable server as an error, not a throw', async () => {
    expect(await checkForUpdate(options({ server: 'http://127.0.0.1:1' }))).toMatchObject({ status: 'error' });
  });
});
