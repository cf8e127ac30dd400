import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { describeOnFailure, screenshot } from './console-support.ts';
import { AGENT_CLI, REPO_ROOT, SERVER_CLI, freePort, runCli, startCli, waitFor, type Proc } from '../support/processes.ts';

/**
 * The console in a real Chromium against a real server and a real agent: log in, create a token
 * in the UI, enroll an agent with it, watch it come online, chart it, run a command, revoke the
 * token, and check that a viewer gets no run button (and that the server refuses one anyway).
 */
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(REPO_ROOT, 'test', 'artifacts', 'web');
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];
const VIEWER = { email: 'viewer@example.com', password: 'viewer-password-123' };

const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`${CHROMIUM} is missing: skipping the browser tests (run .ci/start-chromium.sh to install it)`);

describe.skipIf(!hasChromium)('web console in Chromium', () => {
  let dir: string;
  let url: string;
  let server: Proc | undefined;
  let agent: Proc | undefined;
  let context: BrowserContext | undefined;
  let page: Page;
  let owner: { email: string; password: string };
  let token = '';
  let deviceId = '';
  const consoleErrors: string[] = [];
  const cliFlags = () => ['--server', url, '--data-dir', join(dir, 'server')];

  /** playwright-core has no `expect`: waits for a locator, and polls text with vitest's. */
  const shown = (locator: Locator, timeout?: number) => locator.first().waitFor({ state: 'visible', ...(timeout ? { timeout } : {}) });
  const text = (locator: Locator, timeout = 20_000) => expect.poll(async () => (await locator.first().textContent())?.trim() ?? '', { timeout });
  const shot = (name: string) => screenshot(page, name);
  const nav = (name: string | RegExp) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name });
  const logIn = async (email: string, password: string) => {
    await page.goto(`${url}/`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Fleet overview' }).waitFor();
  };

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    // The server serves web/dist; build it when its sources changed since its last build (as `npm start` does).
    const build = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts/build.mjs'), '--if-stale', 'web'], { cwd: REPO_ROOT, encoding: 'utf8' });
    if (build.status !== 0 || !existsSync(join(REPO_ROOT, 'web/dist/index.html'))) throw new Error(`web build failed:\n${build.stdout}${build.stderr}`);

    dir = await mkdtemp(join(tmpdir(), 'ninjait-web-'));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    // No package build (minutes of CPU this test does not need): one listed .deb stands in for it.
    await seedDebRelease(join(dir, 'server', 'releases'));
    server = startCli(SERVER_CLI, ['start', '--no-agent', '--no-packages'], {
      PORT: String(port), DATA_DIR: join(dir, 'server'), AGENT_INTERVAL_MS: '1000', LOG_LEVEL: 'warn',
      // One person clicks through every page here; the default 100 calls per 15 min is for production.
      RATE_LIMIT_MAX: '100000',
    });
    const login = await waitFor('the first-run login', async () => {
      if (server!.child.exitCode !== null) throw new Error(`server exited:\n${server!.output()}`);
      const match = /Log in at \S+ as (\S+) with password: (\S+)/.exec(server!.stdout());
      return match ? { email: match[1]!, password: match[2]! } : null;
    }, 150_000, 250).catch((error: Error) => {
      throw new Error(`${error.message}\n${server?.output()}`);
    });
    owner = login;
    await runCli(SERVER_CLI, ['user', 'create', '--org', `${hostname()} organization`, '--email', VIEWER.email, '--role', 'viewer', ...cliFlags()], {
      NINJAIT_PASSWORD: VIEWER.password,
    });

    context = await chromium.launchPersistentContext(join(dir, 'chromium-profile'), {
      executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 800 },
      timezoneId: 'Europe/Paris',
    });
    page = context.pages()[0] ?? (await context.newPage());
    describeOnFailure(page, () => server?.output() ?? '');
    page.setDefaultTimeout(20_000);
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(`${page.url()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => consoleErrors.push(`${page.url()}: ${error.message}`));
  }, 240_000);

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    await agent?.kill('SIGKILL');
    await server?.kill('SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  });

  it('serves the console with an SPA fallback and long-lived hashed assets', async () => {
    const index = await fetch(`${url}/devices/some-page`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(index.headers.get('cache-control')).toBe('no-cache');
    const html = await index.text();
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${url}${script}`);
    expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect((await fetch(`${url}/assets/missing.js`)).status).toBe(404);
    expect((await fetch(`${url}/..%2f..%2fpackage.json`)).status).toBe(404);
  });

  it('logs in and shows the fleet overview, and the stores\' health on the System page', async () => {
    await page.goto(`${url}/devices`);
    await page.waitForURL(/\/login/);
    await shot('01-login');
    await logIn(owner.email, owner.password);
    // The session lives in the HttpOnly cookie alone: nothing a script on the page can read holds it.
    const readable = await page.evaluate<string>('JSON.stringify({ session: { ...sessionStorage }, local: { ...localStorage }, cookie: document.cookie })');
    expect(readable).not.toMatch(/ns_[A-Za-z0-9_-]{20}/);
    expect((await context!.cookies()).find((cookie) => cookie.name === 'ninjait_session')).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    await shown(page.getByText('No devices enrolled yet'));
    await shot('02-overview-empty');
    await nav('System').click();
    await expect.poll(() => page.getByRole('list', { name: 'Store health' }).getByRole('listitem').count()).toBeGreaterThan(1);
    await nav('Overview').click();
  }, 60_000);

  it('creates an enrollment token in the UI and a real agent enrolls with it', async () => {
    await nav('Enrollment').click();
    await page.getByLabel('Name').fill('Browser test');
    await page.getByLabel('Max uses').fill('1');
    await page.getByRole('button', { name: 'Create token' }).click();
    token = (await page.getByTestId('new-token').textContent())?.trim() ?? '';
    expect(token).toMatch(/^nit_/);
    // A line only where the server has the package, with the token in it; the others say how to publish one.
    const linux = page.locator('[data-install-option="linux"]');
    await text(linux.locator('code')).toBe(`curl -fsSL '${url}/install.sh?token=${token}' | sudo sh`);
    await shown(page.locator('[data-install-option="bundle"]').getByText('Not available'));
    await text(page.locator('[data-install-option="macos"] code')).toContain('installers/macos/build.sh');
    await text(page.getByRole('note')).toContain('127.0.0.1 is this machine: these lines work here only');
    await shown(page.locator('tr', { hasText: 'Browser test' }).getByText('Active'));
    await shot('03-token-created');

    const agentDir = join(dir, 'agent');
    await runCli(AGENT_CLI, ['enroll', '--server', url, '--token', token, '--data-dir', agentDir]);
    agent = startCli(AGENT_CLI, ['run', '--data-dir', agentDir, '--interval-ms', '1000']);
  }, 60_000);

  it('sees the device come online with live values', async () => {
    await nav('Devices').click();
    const row = page.locator('.vbody [role="row"]').first();
    await shown(row.getByText('Online'), 40_000);
    // CPU cell shows a percentage once the first sample is drained to the cache.
    await text(row.locator('.col-cpu')).toMatch(/\d %$/);
    deviceId = (await row.getAttribute('data-device-id')) ?? '';
    expect(deviceId).toMatch(/^[0-9a-f-]{36}$/);
    await shot('04-devices');
    expect(await page.getByRole('button', { name: /Export CSV \(1\)/ }).isEnabled()).toBe(true);
  }, 90_000);

  it('filters, searches and pages the fleet on the server, keeping the view in the URL', async () => {
    const table = page.getByRole('table', { name: 'Devices' });
    const search = page.getByRole('searchbox', { name: 'Search devices' });
    await search.fill('no-such-device');
    await shown(page.getByText('No device matches these filters'));
    await text(page.locator('.toolbar [aria-live]')).toBe('0 of 1 device');
    expect(page.url()).toContain('q=no-such-device');
    // Any case finds the device by a part of its name.
    await search.fill(hostname().slice(1).toUpperCase());
    await shown(table.locator(`[data-device-id="${deviceId}"]`));
    await search.fill('');
    await page.getByLabel('Status').selectOption('offline');
    await shown(page.getByText('No device matches these filters'));
    await page.getByLabel('Status').selectOption('online');
    await shown(table.locator(`[data-device-id="${deviceId}"]`));
    await text(page.getByRole('option', { name: /^Online/ })).toBe('Online (1)');
    await page.getByRole('button', { name: 'Last seen' }).click();
    expect(page.url()).toMatch(/sort=lastSeen&dir=asc|dir=asc.*sort=lastSeen/);
    await text(page.getByRole('navigation', { name: 'Pages' })).toContain('Page 1 of 1');
    expect(await page.getByRole('button', { name: 'Next' }).isDisabled()).toBe(true);
    await page.goto(`${url}/devices`);
    await shown(table.locator(`[data-device-id="${deviceId}"]`));
  }, 60_000);

  it('opens the device page and sees charts with points', async () => {
    await page.locator('.vbody [role="row"]').first().getByRole('link').click();
    await page.waitForURL(new RegExp(`/devices/${deviceId}$`));
    await text(page.getByRole('list', { name: 'Latest values' })).toContain('%');
    const chart = page.locator('figure.chart').first();
    await expect.poll(async () => Number(await chart.getAttribute('data-points')), { timeout: 30_000 }).toBeGreaterThanOrEqual(2);
    await shown(chart.locator('canvas'));
    await shot('05-device');
  }, 60_000);

  it('runs `echo hello` on the device and sees the output live', async () => {
    await page.getByRole('tab', { name: 'Commands' }).click();
    await page.getByLabel('Command', { exact: true }).fill('echo hello');
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await shown(page.locator('.command-output .badge'));
    await shown(page.getByRole('table').filter({ hasText: 'echo hello' }));
    const output = page.getByLabel('Command output');
    await text(output, 30_000).toContain('hello');
    await text(page.locator('.command-output .badge'), 30_000).toBe('Succeeded');
    await text(page.locator('.command-output')).toContain('exit code 0');
    await shown(page.getByRole('table').filter({ hasText: 'echo hello' }));
    await shot('06-command');
  }, 60_000);

  it('revokes the token, after which it enrolls nothing', async () => {
    await nav('Enrollment').click();
    page.once('dialog', (dialog) => void dialog.accept());
    // Max uses 1, used once: "used up"; create a fresh one to revoke so the Revoke path is exercised.
    await page.getByLabel('Name').fill('To revoke');
    await page.getByRole('button', { name: 'Create token' }).click();
    const fresh = (await page.getByTestId('new-token').textContent())?.trim() ?? '';
    await page.getByRole('button', { name: 'Revoke token To revoke' }).click();
    await shown(page.locator('tr', { hasText: 'To revoke' }).getByText('Revoked'));
    await shown(page.locator('tr', { hasText: 'Browser test' }).getByText('Used up'));
    await shot('07-token-revoked');
    await expect(runCli(AGENT_CLI, ['enroll', '--server', url, '--token', fresh, '--data-dir', join(dir, 'agent-2')])).rejects.toThrow(/revoked/i);
  }, 60_000);

  it('shows a machine that claims a known key as waiting for approval, and an admin rejects it', async () => {
    await nav('Enrollment').click();
    await page.getByLabel('Name').fill('Claims');
    await page.getByLabel('Max uses').fill('2');
    const previous = (await page.getByTestId('new-token').textContent().catch(() => null))?.trim() ?? '';
    await page.getByRole('button', { name: 'Create token' }).click();
    await expect.poll(async () => (await page.getByTestId('new-token').textContent())?.trim()).not.toBe(previous);
    const claims = (await page.getByTestId('new-token').textContent())?.trim() ?? '';
    // Two enrollments of one machine key: the second cannot prove it is the first.
    const inventory = {
      hostname: 'pc-approval', machineKey: `browser-claim-${Date.now()}`, agentVersion: '0.1.0', memoryBytes: 1024 ** 3, disks: [], interfaces: [],
      os: { platform: 'linux', distro: 'Debian GNU/Linux', release: '12', kernel: '6.1.0', arch: 'x64' },
      hardware: { manufacturer: '', model: '', serial: '', uuid: '' }, cpu: { brand: 'Test', cores: 1, physicalCores: 1, speedGHz: 1 },
    };
    const enrollOnce = async () => {
      const res = await fetch(`${url}/trpc/agent.enroll`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: claims, inventory }) });
      const body = await res.text();
      if (!res.ok) throw new Error(`enrollment refused: ${body}`);
      return (JSON.parse(body) as { result: { data: { deviceId: string; status?: string } } }).result.data;
    };
    await enrollOnce();
    const pending = await enrollOnce();
    expect(pending.status).toBe('pending_approval');

    await nav('Devices').click();
    const notice = page.getByRole('region', { name: 'Waiting for approval' });
    await text(notice).toContain('This machine claims to be "pc-approval", but could not prove it.');
    await shown(notice.getByRole('button', { name: 'Replace "pc-approval"' }));
    await shown(page.locator(`.vbody [data-device-id="${pending.deviceId}"]`).getByText('Waiting for approval'));
    await shot('08a-waiting-for-approval');
    await notice.getByRole('link', { name: 'pc-approval' }).click();
    await page.waitForURL(new RegExp(`/devices/${pending.deviceId}$`));
    await shown(page.getByRole('region', { name: 'Waiting for approval' }).getByRole('button', { name: 'Approve as a new device' }));
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('region', { name: 'Waiting for approval' }).getByRole('button', { name: 'Reject' }).click();
    await page.getByRole('region', { name: 'Waiting for approval' }).waitFor({ state: 'detached' });
    await text(page.locator('.page-header .badge')).toBe('Decommissioned');
    await shot('08b-rejected');
  }, 60_000);

  it('works a ticket: create, assign, close', async () => {
    await nav('Tickets').click();
    await page.getByLabel('Title').fill('Printer offline');
    // The server's answer first: a ticket that was never created and one whose page is slow to
    // draw are different failures (CI once saw only "no heading" after 20 s).
    const created = page.waitForResponse((response) => response.url().includes('tickets.create'), { timeout: 30_000 });
    await page.getByRole('button', { name: 'Create ticket' }).click();
    const answer = await created;
    expect(answer.status(), await answer.text()).toBe(200);
    await page.getByRole('heading', { name: 'Printer offline' }).waitFor();
    await page.getByRole('button', { name: 'Assign to me' }).click();
    await shown(page.getByText('Assigned to: you'));
    await page.getByRole('button', { name: 'Close ticket' }).click();
    await text(page.locator('.page-header .badge')).toBe('Closed');
    await shot('08-ticket');
    await nav('Tickets').click();
    await shown(page.getByRole('link', { name: 'Printer offline' }));
    await shot('09-tickets');
  }, 60_000);

  it('shows users, reports, the audit log, the quarantine and the overview without errors', async () => {
    await nav('Users & roles').click();
    await shown(page.getByRole('cell', { name: VIEWER.email }));
    await shot('10-users');
    await nav('Reports').click();
    await page.getByRole('heading', { name: 'Reports' }).waitFor();
    await shown(page.getByText('Billable API calls', { exact: true }), 30_000);
    await shot('11-analytics');
    await nav('Audit log').click();
    await shown(page.getByRole('cell', { name: /^You ran echo hello on / }));
    await shot('12-audit');
    // A healthy agent's records are all stored: the quarantine page says so in words.
    await nav('Data not stored').click();
    await page.getByRole('heading', { name: 'Data we could not store' }).waitFor();
    await shown(page.getByText('Nothing here: every record was stored'));
    await shot('12b-quarantine');
    await nav('Overview').click();
    await text(page.getByRole('listitem').filter({ hasText: 'Online' }).locator('.stat-value')).toBe('1');
    await shot('13-overview');
    expect(await page.getByRole('alert').count()).toBe(0);
  }, 90_000);

  it('fits a tablet', async () => {
    await page.setViewportSize({ width: 820, height: 1100 });
    await nav('Devices').isVisible().then(async (visible) => {
      if (!visible) await page.getByRole('button', { name: 'Menu' }).click();
    });
    await nav('Devices').click();
    await shown(page.locator('.vbody [role="row"]'));
    await shot('14-devices-tablet');
    await page.goto(`${url}/devices/${deviceId}`);
    await page.locator('figure.chart').first().waitFor();
    await shot('15-device-tablet');
    await page.setViewportSize({ width: 1280, height: 800 });
  }, 60_000);

  it('a viewer sees no run button, and the server refuses a viewer anyway', async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(/\/login/);
    await logIn(VIEWER.email, VIEWER.password);
    expect(await nav('Enrollment').count()).toBe(0);
    expect(await nav('Data not stored').count()).toBe(0);
    await page.goto(`${url}/devices/${deviceId}?tab=commands`);
    await shown(page.getByTestId('viewer-note'));
    await shown(page.getByRole('table').filter({ hasText: 'echo hello' }));
    expect(await page.getByRole('button', { name: 'Run', exact: true }).count()).toBe(0);
    expect(await page.getByRole('tab', { name: 'Shell' }).count()).toBe(0);
    await shot('16-viewer-device');

    const login = await fetch(`${url}/trpc/auth.login`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(VIEWER),
    });
    const { result } = (await login.json()) as { result: { data: { sessionToken: string } } };
    const refused = await fetch(`${url}/trpc/commands.run`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${result.data.sessionToken}` },
      body: JSON.stringify({ deviceId, script: 'echo nope' }),
    });
    expect(refused.status).toBe(403);
  }, 60_000);

  it('logged no console errors on any page', () => {
    expect(consoleErrors).toEqual([]);
  });
});

/** A listed (unsigned: the server never checks signatures, agents do) .deb in the server's releases folder. */
async function seedDebRelease(releases: string): Promise<void> {
  await mkdir(releases, { recursive: true });
  const file = 'ninjait-agent_0.1.0_amd64.deb';
  await writeFile(join(releases, file), 'not a real package');
  await writeFile(join(releases, `${file}.json`), JSON.stringify({
    version: '0.1.0', platform: 'linux', arch: 'x64', kind: 'deb', file, sha256: 'a'.repeat(64), size: 'not a real package'.length, signature: 'c2ln',
  }));
}
