import { createHash, createPublicKey } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTRPCClient, httpLink, type TRPCClient } from '@trpc/client';
import type { AppRouter } from '@ninjait/server';
import { releaseSchema, verifyRelease } from '@ninjait/agent/update';
import { SERVER_CLI, freePort, runCli, startCli, waitFor, type Proc } from '../support/processes.ts';
import {
  ROOT_PATH, hasRpmbuild, lanAddress, packageInstallBlocker, purgePackage, releasePackageLock, runLine, serviceEnvironment,
  startGroup, sudoShim, waitForPackageLock, type Group,
} from '../support/system-package.ts';

/** The installers test takes about two and a half minutes with the package installed. */
const PACKAGE_LOCK_WAIT_MS = 10 * 60_000;

/**
 * Issue #14: from `npm start` to a second machine enrolled with the line the console shows.
 * The quick start runs as `npm start` runs it (its own DATA_DIR, a free port, every address, so
 * another machine could reach it) and publishes its packages in the background. The owner logs
 * in through the API and creates a token the way the console does, with the console's origin:
 * this machine's network address, plain http, as a second machine sees it. Every Linux line the
 * console shows is then run with `sh -c` exactly as printed, as root, and the device it enrolls
 * must send a sample: the .deb line (install.sh, dpkg -i, enrollment in the postinst; the agent
 * started by hand as its unit would be, there being no systemd) and the no-package bundle line.
 * This machine already runs the quick start's agent, so each new agent is a device held for
 * approval (its machine key is known) and the local one must stay as it was; the owner approves.
 * The CLI's line is run too, on the enrolled machine: it must keep the device (the agent proves
 * its credentials). The .rpm is checked as far as Debian allows (its files, scriptlets and key).
 * Finally a restart must reuse the packages instead of building them again.
 */

const blocker = packageInstallBlocker();
if (blocker) console.warn(`install-lines e2e skipped: ${blocker}`);
const LAN = lanAddress();
if (!blocker && !LAN) console.warn('install-lines e2e: no non-loopback address, so the lines use 127.0.0.1 and the plain-http (--insecure) path is not exercised');

type Api = TRPCClient<AppRouter>;
type Link = Awaited<ReturnType<Api['updates']['installLinks']['mutate']>>;
const PACKAGES_TIMEOUT_MS = 600_000;

describe.skipIf(blocker !== null)('install lines the console shows, run as printed against the quick start', () => {
  let dir = '';
  let port = 0;
  let url = '';
  let consoleOrigin = '';
  let quickStart: Proc | undefined;
  let owner: Api;
  let localDeviceId = '';
  let locked = false;
  let localEnrolledAt = 0;
  const groups: Group[] = [];
  const rpm = hasRpmbuild();
  const dataDir = () => join(dir, 'data');
  const shellEnv = (home: string) => ({ PATH: `${sudoPath ? `${sudoPath}:` : ''}${ROOT_PATH}`, HOME: home, LANG: 'C.UTF-8', USER: 'root' });
  let sudoPath: string | null = null;

  const startQuickStart = () => startCli(SERVER_CLI, ['start'], {
    PORT: String(port), HOST: '0.0.0.0', DATA_DIR: dataDir(), DATABASE_URL: '', REDIS_URL: '', AGENT_INTERVAL_MS: '2000', LOG_LEVEL: 'info',
  });
  /** What the console does on "Create token": the server's offer for this page's origin. */
  const consoleLink = (): Promise<Link> => owner.updates.installLinks.mutate({ name: 'e2e', serverUrl: consoleOrigin });
  const line = (link: Link, id: string) => {
    const found = link.options.find((option) => option.id === id);
    if (!found?.line) throw new Error(`the console shows no ${id} line: ${JSON.stringify(found)}`);
    return found.line;
  };
  const device = (id: string) => owner.devices.get.query({ id });
  /** A new agent of this machine is held for approval (the key is known); the owner approves it, and its samples arrive. */
  const approveAndSeeSamples = async (deviceId: string) => {
    const pending = await owner.devices.pending.query();
    expect(pending.find((p) => p.id === deviceId)).toMatchObject({ pendingReason: 'no_credentials', claimsDeviceId: expect.any(String) });
    await owner.devices.approve.mutate({ id: deviceId });
    return waitFor(`a sample from ${deviceId}`, async () => {
      const d = await device(deviceId);
      return d.status === 'online' && d.latest ? d : null;
    }, 90_000, 500);
  };
  const packagedAgent = () => {
    // As the unit runs it: the ninjait user, the unit's EnvironmentFile, nothing from this process.
    const agent = startGroup('setpriv', ['--reuid=ninjait', '--regid=ninjait', '--init-groups', '/usr/bin/ninjait-agent', 'run'],
      { PATH: ROOT_PATH, ...serviceEnvironment() });
    groups.push(agent);
    return agent;
  };
  const enrolledDeviceId = (configFile: string) => (JSON.parse(readFileSync(configFile, 'utf8')) as { deviceId: string }).deviceId;

  beforeAll(async () => {
    // The installers test (beside the main suite in npm test) installs the same package: its turn first.
    locked = await waitForPackageLock(PACKAGE_LOCK_WAIT_MS);
    if (!locked) throw new Error('another test has been installing ninjait-agent on this machine for 10 minutes (/run/lock/ninjait-agent-package-test)');
    dir = await mkdtemp(join(tmpdir(), 'ninjait-install-lines-'));
    sudoPath = sudoShim(join(dir, 'sudo-shim'));
    if (sudoPath) console.warn('install-lines e2e: sudo is missing; as root, a `sudo` that runs its command stands in for it');
    port = await freePort();
    url = `http://127.0.0.1:${port}`;
    consoleOrigin = `http://${LAN ?? '127.0.0.1'}:${port}`;
    quickStart = startQuickStart();
    const login = await waitFor('the first-run login', async () => {
      if (quickStart!.child.exitCode !== null) throw new Error(`the quick start exited:\n${quickStart!.output()}`);
      return /Log in at \S+ as (\S+) with password: (\S+)/.exec(quickStart!.stdout());
    }, 180_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${quickStart?.output()}`);
    });
    localDeviceId = (await waitFor('the local agent', async () => /Local agent enrolled as device (\S+)\./.exec(quickStart!.stdout()), 60_000))[1]!;
    localEnrolledAt = Date.now();
    const { sessionToken } = await createTRPCClient<AppRouter>({ links: [httpLink({ url: `${url}/trpc` })] }).auth.login.mutate({ email: login[1]!, password: login[2]! });
    owner = createTRPCClient<AppRouter>({ links: [httpLink({ url: `${url}/trpc`, headers: { authorization: `Bearer ${sessionToken}` } })] });
  }, 240_000 + PACKAGE_LOCK_WAIT_MS);

  afterAll(async () => {
    for (const group of groups) await group.stop();
    if (quickStart) {
      quickStart.child.kill('SIGINT');
      const timer = setTimeout(() => quickStart?.child.kill('SIGKILL'), 20_000);
      await quickStart.exited;
      clearTimeout(timer);
    }
    if (locked) {
      purgePackage();
      releasePackageLock();
    }
    if (dir) await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  }, 120_000);

  it('shows this machine reporting at once, then publishes the packages it can build, signed with its own key', async () => {
    const first = await waitFor('the local agent\'s first sample', async () => (await device(localDeviceId)).latest, 60_000, 250);
    expect(first).toBeTruthy();
    console.info(`install-lines e2e: the local agent's first sample visible ${Date.now() - localEnrolledAt} ms after it enrolled, packages building beside it`);
    const published = (kind: string) => new RegExp(`"kind":"${kind}".*"msg":"agent package published`);
    await waitFor('the bundle and .deb to be published', async () => published('bundle').test(quickStart!.output()) && published('deb').test(quickStart!.output()), PACKAGES_TIMEOUT_MS, 1000);
    if (rpm) await waitFor('the .rpm to be published', async () => published('rpm').test(quickStart!.output()), PACKAGES_TIMEOUT_MS, 1000);
    else expect(quickStart!.output()).toMatch(/no rpm agent package here: rpmbuild not found/);

    // Signed the way the update path checks: by the key the packages carry, over the bytes served.
    const publicKey = createPublicKey(readFileSync(join(dataDir(), 'agent-packages', 'update-key.pub')));
    const releases = (await owner.updates.releases.query());
    expect(releases.map((r) => r.kind).sort()).toEqual(rpm ? ['bundle', 'deb', 'rpm'] : ['bundle', 'deb']);
    for (const release of releases) {
      expect(verifyRelease(releaseSchema.parse(release), publicKey), release.file).toBe(true);
      const served = Buffer.from(await (await fetch(`${url}/downloads/agent/latest/linux/${process.arch}/${release.kind}`)).arrayBuffer());
      expect(createHash('sha256').update(served).digest('hex'), release.file).toBe(release.sha256);
    }
    // The key, and everything published, is private to the server's account, like the rest of DATA_DIR.
    for (const folder of ['agent-packages', 'releases']) {
      for (const name of readdirSync(join(dataDir(), folder))) expect(statSync(join(dataDir(), folder, name)).mode & 0o077, name).toBe(0);
    }
  }, PACKAGES_TIMEOUT_MS + 120_000);

  it('offers a line only for what the server has, says how to publish the rest, and warns where it should', async () => {
    const link = await consoleLink();
    expect(link.options.map((option) => [option.id, option.line !== null])).toEqual([['linux', true], [`bundle-linux-${process.arch}`, true], ['macos', false], ['windows', false]]);
    expect(line(link, 'linux')).toBe(`curl -fsSL '${consoleOrigin}/install.sh?token=${link.token}' | sudo sh`);
    if (LAN) {
      expect(link.insecure).toBe(true);
      expect(link.notes).toEqual([expect.stringMatching(/^This server has no TLS; the agent will be told to accept that/)]);
      expect(line(link, `bundle-linux-${process.arch}`)).toContain(' --insecure');
    }
    const local = await owner.updates.installLinks.mutate({ serverUrl: url });
    expect(local.insecure).toBe(false);
    expect(local.notes).toEqual([expect.stringMatching(/^127\.0\.0\.1 is this machine/)]);
    // Both links above are spent unused: revoke them, as an admin would.
    for (const made of [link, local]) await owner.tokens.revoke.mutate({ id: made.tokenId });
    expect((await fetch(`${consoleOrigin}/install.sh?token=${link.token}`)).status).toBe(403);
  }, 60_000);

  it('the Linux line installs the .deb, enrolls, and the device sends samples; the local agent is untouched', async () => {
    const link = await consoleLink();
    const run = await runLine(line(link, 'linux'), shellEnv(join(dir, 'root-home')), 300_000);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain(`NinjaIT: installed and enrolled with ${consoleOrigin}`);
    // The package carries the quick start's key, and the service was told to accept plain http.
    expect(readFileSync('/etc/ninjait/update-key.pub', 'utf8')).toBe(readFileSync(join(dataDir(), 'agent-packages', 'update-key.pub'), 'utf8'));
    expect(serviceEnvironment().NINJAIT_INSECURE).toBe(LAN ? '1' : undefined);
    expect((await fetch(`${consoleOrigin}/install.sh?token=${link.token}`)).status).toBe(403);

    const deviceId = enrolledDeviceId('/etc/ninjait/agent.json');
    packagedAgent();
    const seen = await approveAndSeeSamples(deviceId);
    expect(seen.agentVersion).toBe('0.1.0');
    const local = await device(localDeviceId);
    expect(local.status).toBe('online');
  }, 420_000);

  it('the no-package line unpacks the bundle, enrolls and runs the agent in the shell, and it sends samples', async () => {
    const link = await consoleLink();
    const home = join(dir, 'bundle-home');
    const shell = startGroup('sh', ['-c', line(link, `bundle-linux-${process.arch}`)], shellEnv(home));
    groups.push(shell);
    const configFile = join(home, 'ninjait-agent', 'data', 'agent.json');
    await waitFor('the bundle line to enroll', async () => {
      if (shell.child.exitCode !== null) throw new Error(`the line ended (${shell.child.exitCode}):\n${shell.output()}`);
      return existsSync(configFile);
    }, 180_000, 500).catch((error: Error) => {
      throw new Error(`${error.message}\n${shell.output()}`);
    });
    await approveAndSeeSamples(enrolledDeviceId(configFile));
    expect(shell.child.exitCode).toBeNull();
    await shell.stop();
  }, 300_000);

  it('the CLI\'s line, run again on the enrolled machine, keeps its device: the agent proves its credentials', async () => {
    const flags = ['--server', url, '--data-dir', dataDir()];
    const org = (JSON.parse(await runCli(SERVER_CLI, ['org', 'list', '--json', ...flags])) as { name: string }[])[0]!.name;
    const printed = await runCli(SERVER_CLI, ['installer', '--org', org, '--public-url', consoleOrigin, ...flags]);
    const cliLine = /^ {2}(curl -fsSL '\S+\/install\.sh\?token=nit_[\w-]+' \| sudo sh)$/m.exec(printed)?.[1];
    expect(cliLine, printed).toBeDefined();
    expect(printed).toMatch(/^macOS: no line\. This server has no (TLS|macOS package)/m);

    const before = enrolledDeviceId('/etc/ninjait/agent.json');
    const devicesBefore = (await owner.devices.list.query({})).items.length;
    // As systemd would around a package upgrade: the service stops, the postinst restarts it.
    for (const group of groups.splice(0)) await group.stop();
    const run = await runLine(cliLine!, shellEnv(join(dir, 'root-home')), 300_000);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain('(existing device record)');
    expect(enrolledDeviceId('/etc/ninjait/agent.json')).toBe(before);
    expect((await owner.devices.pending.query()).length).toBe(0);
    expect((await owner.devices.list.query({})).items.length).toBe(devicesBefore);

    const restartedAt = Date.now();
    packagedAgent();
    await waitFor('a sample collected after re-enrollment', async () => {
      const collectedAt = (await device(before)).latest?.collectedAt;
      return typeof collectedAt === 'string' && Date.parse(collectedAt) > restartedAt;
    }, 90_000, 500);
  }, 420_000);

  it.skipIf(!rpm)('the .rpm holds the agent, the enrollment scriptlet and the quick start\'s key', async () => {
    const file = join(dir, 'agent.rpm');
    writeFileSync(file, Buffer.from(await (await fetch(`${url}/downloads/agent/latest/linux/${process.arch}/rpm`)).arrayBuffer()));
    const files = execFileSync('rpm', ['-qpl', file]).toString().split('\n');
    for (const path of ['/opt/ninjait/bin/node', '/opt/ninjait/lib/agent.mjs', '/opt/ninjait/lib/launcher.mjs', '/opt/ninjait/share/ninjait-setup.sh',
      '/usr/bin/ninjait-agent', '/etc/ninjait/update-key.pub']) {
      expect(files, path).toContain(path);
    }
    expect(execFileSync('rpm', ['-qp', '--scripts', file]).toString()).toContain('/opt/ninjait/share/ninjait-setup.sh configure');
    const key = execFileSync('rpm', ['-qp', '--dump', file]).toString().split('\n').find((row) => row.startsWith('/etc/ninjait/update-key.pub '));
    const keyDigest = createHash('sha256').update(readFileSync(join(dataDir(), 'agent-packages', 'update-key.pub'))).digest('hex');
    expect(key?.split(' ')[3]).toBe(keyDigest);
  }, 60_000);

  it('a restart reuses the packages instead of building them again', async () => {
    quickStart!.child.kill('SIGINT');
    expect(await quickStart!.exited).toBe(0);
    const started = Date.now();
    quickStart = startQuickStart();
    const kinds = rpm ? ['bundle', 'deb', 'rpm'] : ['bundle', 'deb'];
    await waitFor('every package reused', async () => {
      if (quickStart!.child.exitCode !== null) throw new Error(`the quick start exited:\n${quickStart!.output()}`);
      return kinds.every((kind) => new RegExp(`"kind":"${kind}".*"msg":"agent package unchanged since it was published`).test(quickStart!.output()));
    }, 120_000, 500);
    expect(quickStart!.output()).not.toContain('building agent packages');
    console.info(`install-lines e2e: restart to packages reused in ${Date.now() - started} ms`);
  }, 180_000);
});
