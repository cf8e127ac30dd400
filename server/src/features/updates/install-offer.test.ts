import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isLoopbackHost as agentIsLoopbackHost } from '@ninjait/agent/link/server-transport';
import { installOffer, type InstallOffer } from './install-offer.ts';
import { publishHelp } from './publish-help.ts';
import type { Release } from './releases.ts';
import { isLoopbackHost } from './server-url.ts';

const TOKEN = `nit_${'A'.repeat(43)}`;
const release = (platform: Release['platform'], arch: string, kind: Release['kind']): Release => ({
  version: '0.1.0', platform, arch, kind, file: `ninjait-agent-0.1.0-${platform}-${arch}.${kind}`, sha256: 'a'.repeat(64), size: 1, signature: 'c2ln',
});
const LINUX = [release('linux', 'x64', 'bundle'), release('linux', 'x64', 'deb'), release('linux', 'x64', 'rpm')];

describe('install offer', () => {
  let dataDir: string;
  beforeEach(() => { dataDir = mkdtempSync(join(tmpdir(), 'ninjait-offer-')); });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));
  const offer = (serverUrl: string, releases: Release[]) => installOffer({ serverUrl, token: TOKEN, releases, publish: publishHelp({ DATA_DIR: dataDir }) });
  const option = (o: InstallOffer, id: string) => o.options.find((x) => x.id === id)!;

  it('offers a line only for the packages the server has, and says how to publish the others', () => {
    const none = offer('https://rmm.example.com/', []);
    expect(none.options.map((o) => [o.id, o.line])).toEqual([['linux', null], ['bundle', null], ['macos', null], ['windows', null]]);
    expect(option(none, 'linux').unavailable?.publish).toBe(`node --import tsx installers/publish-local.ts --releases-dir ${join(dataDir, 'releases')} --work-dir ${join(dataDir, 'agent-packages')}`);
    // No quick-start key yet: the commands make one first.
    expect(option(none, 'macos').unavailable?.publish).toMatch(/^node --import tsx installers\/sign.ts keygen --out ~\/ninjait-keys/);
    expect(option(none, 'windows').unavailable?.publish).toContain(`--kind msi --out ${join(dataDir, 'releases')}`);

    const linux = offer('https://rmm.example.com', LINUX);
    expect(option(linux, 'linux').line).toBe(`curl -fsSL 'https://rmm.example.com/install.sh?token=${TOKEN}' | sudo sh`);
    expect(option(linux, 'linux').how).toContain('the .deb (x64) or the .rpm (x64)');
    expect(option(linux, 'bundle-linux-x64').line).toBe(
      `d="$HOME/ninjait-agent" && mkdir -p "$d" && curl -fsSL 'https://rmm.example.com/downloads/agent/latest/linux/x64/bundle' | tar -xzf - -C "$d"`
      + ` && "$d/bin/node" "$d/lib/launcher.mjs" enroll --data-dir "$d/data" --server 'https://rmm.example.com' --token '${TOKEN}'`
      + ` && "$d/bin/node" "$d/lib/launcher.mjs" run --data-dir "$d/data"`,
    );
    expect(linux.options.some((o) => o.id === 'bundle')).toBe(false);
    expect(option(linux, 'macos').line).toBeNull();
    expect(linux.notes).toEqual([]);

    const all = offer('https://rmm.example.com', [...LINUX, release('darwin', 'arm64', 'pkg'), release('win32', 'x64', 'msi')]);
    expect(option(all, 'macos').line).toBe(option(all, 'linux').line);
    expect(option(all, 'windows').line).toBe(`powershell -NoProfile -ExecutionPolicy Bypass -Command "iex (irm 'https://rmm.example.com/install.ps1?token=${TOKEN}')"`);
  });

  it('uses the quick start\'s release key in the publish commands when it has one', () => {
    mkdirSync(join(dataDir, 'agent-packages'));
    writeFileSync(join(dataDir, 'agent-packages', 'update-key.pem'), 'x');
    const macos = option(offer('https://rmm.example.com', []), 'macos').unavailable?.publish ?? '';
    expect(macos).not.toContain('keygen');
    expect(macos).toContain(`--key ${join(dataDir, 'agent-packages')}/update-key.pem`);
  });

  it('tells the agent to accept plain http beyond loopback, says so, and offers no package that cannot', () => {
    const lan = offer('http://192.0.2.10:3000', [...LINUX, release('darwin', 'arm64', 'pkg'), release('win32', 'x64', 'msi')]);
    expect(lan.insecure).toBe(true);
    expect(lan.notes[0]).toMatch(/^This server has no TLS; the agent will be told to accept that/);
    // install.sh carries the flag itself (NINJAIT_INSECURE); the bundle line passes it to enroll and run.
    expect(option(lan, 'linux').line).toBe(`curl -fsSL 'http://192.0.2.10:3000/install.sh?token=${TOKEN}' | sudo sh`);
    expect(option(lan, 'bundle-linux-x64').line?.match(/ --insecure/g)).toHaveLength(2);
    for (const id of ['macos', 'windows']) {
      expect(option(lan, id).line).toBeNull();
      expect(option(lan, id).unavailable?.reason).toMatch(/enrolls over https only/);
    }
    const local = offer('http://127.0.0.1:3000', LINUX);
    expect(local.insecure).toBe(false);
    expect(option(local, 'bundle-linux-x64').line).not.toContain('--insecure');
    expect(local.notes[0]).toMatch(/^127\.0\.0\.1 is this machine: these lines work here only/);
  });

  it('refuses a server URL or token that could break out of the quoting', () => {
    for (const url of ["https://x.example.com/'; rm -rf / #", 'https://x.example.com/a b', 'https://x.example.com/$(id)', 'https://x.example.com/?a=1',
      'https://user:pw@x.example.com', 'javascript:alert(1)', 'https://x.example.com/`id`', 'https://x.example.com/"']) {
      expect(() => offer(url, LINUX), url).toThrow(/server URL/);
    }
    expect(() => installOffer({ serverUrl: 'https://x.example.com', token: "nit_a'$(id)", releases: LINUX, publish: publishHelp({ DATA_DIR: dataDir }) })).toThrow(/enrollment token/);
  });

  it('agrees with the agent on what loopback is', () => {
    for (const host of ['127.0.0.1', '127.9.9.9', 'localhost', 'LOCALHOST', 'a.localhost', '[::1]', '::1', '0.0.0.0', '10.0.0.1', '192.0.2.2',
      '[fd00::2]', '::ffff:127.0.0.1', 'example.com', 'localhost.example.com', '128.0.0.1', '0:0:0:0:0:0:0:1']) {
      expect(isLoopbackHost(host), host).toBe(agentIsLoopbackHost(host));
    }
  });
});
