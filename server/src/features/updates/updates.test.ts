import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderInstallScript } from './install-links.ts';
import { compareVersions, releaseCatalog, type Release } from './releases.ts';

const TOKEN = `nit_${'A'.repeat(43)}`;

describe('install scripts', () => {
  it('fills in the server URL and token', () => {
    const sh = renderInstallScript('sh', { serverUrl: 'https://rmm.example.com/', token: TOKEN });
    expect(sh).toContain("NINJAIT_SERVER='https://rmm.example.com'");
    expect(sh).toContain(`NINJAIT_TOKEN='${TOKEN}'`);
    expect(sh).toContain("NINJAIT_INSECURE='0'");
    expect(sh).not.toContain('__NINJAIT_');
    const ps1 = renderInstallScript('ps1', { serverUrl: 'http://10.0.0.5:3000', token: TOKEN });
    expect(ps1).toContain(`[string]$Token = '${TOKEN}'`);
  });

  it('refuses values that could break out of the quoting', () => {
    expect(() => renderInstallScript('sh', { serverUrl: "https://x.example.com/'; rm -rf / #", token: TOKEN })).toThrow();
    expect(() => renderInstallScript('sh', { serverUrl: 'https://x.example.com', token: "nit_a'$(id)" })).toThrow();
    expect(() => renderInstallScript('ps1', { serverUrl: 'https://x.example.com', token: 'not-a-token' })).toThrow();
  });

  it('tells the agent to accept plain http only beyond loopback', () => {
    const insecure = (serverUrl: string) => /NINJAIT_INSECURE='(\d)'/.exec(renderInstallScript('sh', { serverUrl, token: TOKEN }))?.[1];
    expect(insecure('http://10.0.0.5:3000')).toBe('1');
    expect(insecure('http://rmm.lan')).toBe('1');
    expect(insecure('http://127.0.0.1:3000')).toBe('0');
    expect(insecure('http://[::1]:3000')).toBe('0');
    expect(insecure('https://10.0.0.5')).toBe('0');
  });
});

describe('release catalog', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'ninjait-releases-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const publish = (version: string, kind: Release['kind'], bytes = 'payload', size = bytes.length) => {
    const file = `ninjait-agent-${version}.${kind}`;
    writeFileSync(join(dir, file), bytes);
    const release: Release = { version, platform: 'linux', arch: 'x64', kind, file, sha256: 'a'.repeat(64), size, signature: 'c2ln' };
    writeFileSync(join(dir, `${file}.json`), JSON.stringify(release));
  };

  it('offers the highest version per kind and serves only listed files of the signed size', () => {
    publish('0.9.0', 'bundle');
    publish('0.10.0', 'bundle');
    publish('0.11.0', 'bundle', 'truncated', 999);
    publish('1.0.0', 'deb');
    writeFileSync(join(dir, 'secret.txt'), 'x');
    const catalog = releaseCatalog(dir);
    expect(catalog.latest({ platform: 'linux', arch: 'x64', kind: 'bundle' })?.version).toBe('0.10.0');
    expect(catalog.latest({ platform: 'linux', arch: 'x64', kind: 'deb' })?.version).toBe('1.0.0');
    expect(catalog.latest({ platform: 'darwin', arch: 'x64', kind: 'bundle' })).toBeNull();
    expect(catalog.pathOf('ninjait-agent-0.9.0.bundle')).toBe(join(dir, 'ninjait-agent-0.9.0.bundle'));
    expect(catalog.pathOf('secret.txt')).toBeNull();
    expect(catalog.pathOf('ninjait-agent-0.11.0.bundle')).toBeNull();
  });

  it('compares versions numerically', () => {
    expect(compareVersions('0.10.0', '0.9.0')).toBe(1);
    expect(compareVersions('1.0.0-rc.1', '1.0.0')).toBe(-1);
    expect(compareVersions('1.0.0', '1.0.0')).toBe(0);
  });
});
