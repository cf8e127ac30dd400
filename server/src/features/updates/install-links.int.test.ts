import { request } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf, startHarness, type Client, type Harness } from '../../../test-support/harness.ts';
import { cacheEngines, relationalEngines } from '../../../test-support/databases.ts';

/**
 * The install links the console and the CLI get, through the real API on each engine pair: a
 * line only for a package the releases folder lists, with the token in it; the script that line
 * fetches carries the token and the plain-http consent; a URL that could not go into a line is
 * refused before a token is spent.
 */

const PAIRS = relationalEngines().flatMap((relational) => cacheEngines().map((cache) => ({ relational, cache })))
  .filter((pair) => (pair.relational === 'postgres') === (pair.cache === 'redis'));

/** GET with a chosen Host header, as a machine that reached the server at that address sends it. */
function getAs(url: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, { headers: { host } }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject).end();
  });
}

describe.each(PAIRS)('install links on $relational + $cache', ({ relational, cache }) => {
  let h: Harness;
  let releases: string;
  let owner: Client;
  let orgId: string;

  beforeAll(async () => {
    releases = mkdtempSync(join(tmpdir(), 'ninjait-install-links-'));
    const file = 'ninjait-agent_0.1.0_amd64.deb';
    writeFileSync(join(releases, file), 'deb');
    writeFileSync(join(releases, `${file}.json`), JSON.stringify({ version: '0.1.0', platform: 'linux', arch: 'x64', kind: 'deb', file, sha256: 'a'.repeat(64), size: 3, signature: 'c2ln' }));
    h = await startHarness({ relational, cache, env: { RELEASES_DIR: releases } });
    const org = await h.admin.admin.organizations.create.mutate({ name: 'Links' });
    orgId = org.id;
    await h.admin.admin.users.create.mutate({ org: org.id, email: 'owner@links.test', password: 'correct horse battery staple', role: 'owner' });
    const { sessionToken } = await h.http().auth.login.mutate({ email: 'owner@links.test', password: 'correct horse battery staple' });
    owner = h.http({ authorization: `Bearer ${sessionToken}` });
  }, 120_000);
  afterAll(async () => {
    await h?.stop();
    rmSync(releases, { recursive: true, force: true });
  });

  it('offers the line of a listed package with the token in it, and its script tells the agent to accept plain http', async () => {
    const link = await owner.updates.installLinks.mutate({ serverUrl: 'http://192.0.2.10:3000', maxUses: 2, expiresInSec: 365 * 24 * 3600 });
    const linux = link.options.find((option) => option.id === 'linux');
    expect(linux?.line).toBe(`curl -fsSL 'http://192.0.2.10:3000/install.sh?token=${link.token}' | sudo sh`);
    expect(linux?.packages).toEqual(['ninjait-agent_0.1.0_amd64.deb']);
    expect(link.options.filter((option) => option.line === null).map((option) => option.id)).toEqual(['bundle', 'macos', 'windows']);
    expect(link.insecure).toBe(true);

    const script = await getAs(`${h.server.url}/install.sh?token=${link.token}`, '192.0.2.10:3000');
    expect(script.status).toBe(200);
    expect(script.body).toContain("NINJAIT_SERVER='http://192.0.2.10:3000'");
    expect(script.body).toContain(`NINJAIT_TOKEN='${link.token}'`);
    expect(script.body).toContain("NINJAIT_INSECURE='1'");
    const local = await getAs(`${h.server.url}/install.sh?token=${link.token}`, new URL(h.server.url).host);
    expect(local.body).toContain("NINJAIT_INSECURE='0'");
  });

  it('refuses a server URL that could not go into a line, before a token is spent', async () => {
    const before = (await owner.tokens.list.query()).length;
    for (const serverUrl of ["http://x.example.com/'$(id)'", 'http://user:pw@x.example.com', 'http://x.example.com/?a=b']) {
      expect(await codeOf(owner.updates.installLinks.mutate({ serverUrl })), serverUrl).toBe('BAD_REQUEST');
    }
    expect(await codeOf(owner.updates.installLinks.mutate({ serverUrl: `https://${'a'.repeat(2100)}.example.com` }))).toBe('BAD_REQUEST');
    expect(await codeOf(owner.updates.installLinks.mutate({ expiresInSec: 365 * 24 * 3600 + 1 }))).toBe('BAD_REQUEST');
    expect((await owner.tokens.list.query()).length).toBe(before);
  });

  it('gives the CLI (local admin) the same lines, for the organization it names', async () => {
    const link = await h.admin.updates.adminInstallLinks.mutate({ org: orgId, serverUrl: 'https://rmm.example.com' });
    expect(link.options.find((option) => option.id === 'linux')?.line).toBe(`curl -fsSL 'https://rmm.example.com/install.sh?token=${link.token}' | sudo sh`);
    expect(link.insecure).toBe(false);
    expect((await owner.tokens.list.query()).some((token) => token.id === link.tokenId)).toBe(true);
  });
});
