import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { createTRPCUntypedClient, createWSClient, wsLink } from '@trpc/client';
import { WebSocket } from 'ws';
import { fakeInventory } from '@ninjait/server/testing';
import { dropRedisKeys } from '@ninjait/server/testing';
import { describeOnFailure, screenshot } from './console-support.ts';
import { AGENT_CLI, REPO_ROOT, SERVER_CLI, freePort, runCli, startCli, waitFor, type Proc } from '../support/processes.ts';

/**
 * A new admin's first hour with devices, in a real Chromium against a real server and agent:
 * the inventory says what the machine is (clock, disks, the address people know it by), the
 * fleet table selects and acts in bulk, command history has durations and output can be copied,
 * tickets link to devices, a device whose agent presents refused credentials says so, every
 * page fits a 390 px phone, and when the server stops under the page the console says so,
 * keeps its menu, greys live values, and recovers by itself when the server is back.
 *
 * Sessions live in Redis here (a key space of this file's own, removed at the end), so the
 * server can be stopped and started again under a logged-in page, as in production.
 */
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(REPO_ROOT, 'test', 'artifacts', 'web-device');
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PHONE = { width: 390, height: 844 };
/** An OS name longer than any column: the table must show all of it (wrapped, and in the tooltip). */
const LONG_DISTRO = 'Red Hat Enterprise Linux Server for SAP Solutions with High Availability Extended Update Support';
const WRONG_SECRET = `nds_${'w'.repeat(40)}`;

const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`${CHROMIUM} is missing: skipping the browser tests (run .ci/start-chromium.sh to install it)`);

describe.skipIf(!hasChromium)('devices in the console (Chromium)', () => {
  let dir: string;
  let url: string;
  let serverEnv: Record<string, string>;
  let server: Proc | undefined;
  let agent: Proc | undefined;
  let context: BrowserContext | undefined;
  let page: Page;
  let owner: { email: string; password: string };
  let session = '';
  let deviceId = '';
  let deviceName = '';
  /** Enrolled over HTTP with an older agent's inventory: no primary address, a very long OS name. */
  let oldAgent = { id: '', secret: '', name: '' };
  const keyPrefix = `test:web-device:${randomBytes(4).toString('hex')}:`;
  const pageErrors: string[] = [];

  const shown = (locator: Locator, timeout?: number) => locator.first().waitFor({ state: 'visible', ...(timeout ? { timeout } : {}) });
  const text = (locator: Locator, timeout = 20_000) => expect.poll(async () => (await locator.first().textContent())?.trim() ?? '', { timeout });
  const shot = (name: string) => screenshot(page, name, ARTIFACTS);
  const nav = (name: string | RegExp) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name });
  /** Calls the API as the owner, from the test (what a script would do). */
  const call = async <T>(path: string, type: 'query' | 'mutation', input?: unknown): Promise<T> => {
    const target = new URL(`${url}/trpc/${path}`);
    if (type === 'query' && input !== undefined) target.searchParams.set('input', JSON.stringify(input));
    const response = await fetch(target, {
      method: type === 'mutation' ? 'POST' : 'GET',
      headers: { 'content-type': 'application/json', ...(session ? { authorization: `Bearer ${session}` } : {}) },
      ...(type === 'mutation' && input !== undefined ? { body: JSON.stringify(input) } : {}),
    });
    const body = await response.text();
    if (!response.ok) throw new Error(`${path}: ${response.status} ${body}`);
    return (JSON.parse(body) as { result: { data: T } }).result.data;
  };
  const startServer = async () => {
    // No agent package build (see console-support.ts): nothing here looks at install lines.
    server = startCli(SERVER_CLI, ['start', '--no-agent', '--no-packages'], serverEnv);
    await waitFor('the server to answer', async () => {
      if (server!.child.exitCode !== null) throw new Error(`server exited:\n${server!.output()}`);
      return (await fetch(`${url}/healthz`).catch(() => null))?.ok;
    }, 150_000, 250);
  };
  /** No sideways scrolling: the document is no wider than the window. */
  const fitsWidth = async (what: string) => {
    // Runs in the page (a string: this file is compiled without the DOM's types). The elements that
    // stick out are named, so a failure says what to fix.
    const { scroll, width, widest } = await page.evaluate<{ scroll: number; width: number; widest: string[] }>(`(() => {
      const out = [...document.querySelectorAll('body *')].filter((element) => element.getBoundingClientRect().right > window.innerWidth + 1)
        .slice(0, 12).map((element) => element.tagName.toLowerCase() + '.' + [...element.classList].join('.') + ' (' + Math.round(element.getBoundingClientRect().right) + ' px)');
      return { scroll: document.documentElement.scrollWidth, width: window.innerWidth, widest: out };
    })()`);
    expect(scroll, `${what} is ${scroll} px wide in a ${width} px window: ${widest.join(', ')}`).toBeLessThanOrEqual(width);
  };

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    const build = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts/build.mjs'), '--if-stale', 'web'], { cwd: REPO_ROOT, encoding: 'utf8' });
    if (build.status !== 0 || !existsSync(join(REPO_ROOT, 'web/dist/index.html'))) throw new Error(`web build failed:\n${build.stdout}${build.stderr}`);

    dir = await mkdtemp(join(tmpdir(), 'ninjait-web-device-'));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    serverEnv = {
      PORT: String(port), DATA_DIR: join(dir, 'server'), AGENT_INTERVAL_MS: '1000', LOG_LEVEL: 'warn', RATE_LIMIT_MAX: '100000',
      REDIS_URL, REDIS_KEY_PREFIX: keyPrefix, QUEUE_PREFIX: `${keyPrefix}q`,
    };
    await startServer();
    owner = await waitFor('the first-run login', async () => {
      const match = /Log in at \S+ as (\S+) with password: (\S+)/.exec(server!.stdout());
      return match ? { email: match[1]!, password: match[2]! } : null;
    }, 30_000, 250);
    session = (await call<{ sessionToken: string }>('auth.login', 'mutation', owner)).sessionToken;

    const { token } = await call<{ token: string }>('tokens.create', 'mutation', { name: 'device console test', maxUses: 5 });
    const agentDir = join(dir, 'agent');
    await runCli(AGENT_CLI, ['enroll', '--server', url, '--token', token, '--data-dir', agentDir]);
    agent = startCli(AGENT_CLI, ['run', '--data-dir', agentDir, '--interval-ms', '1000']);

    const old = fakeInventory(`old-agent-${randomBytes(4).toString('hex')}`, 'old-agent-pc');
    old.os.distro = LONG_DISTRO;
    old.hardware.serial = '-';
    old.hardware.manufacturer = '';
    const enrolled = await call<{ deviceId: string; deviceSecret: string }>('agent.enroll', 'mutation', { token, inventory: old });
    oldAgent = { id: enrolled.deviceId, secret: enrolled.deviceSecret, name: old.hostname };

    context = await chromium.launchPersistentContext(join(dir, 'chromium-profile'), {
      executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 800 }, timezoneId: 'Europe/Paris',
      permissions: ['clipboard-read', 'clipboard-write'],
    });
    page = context.pages()[0] ?? (await context.newPage());
    describeOnFailure(page, () => server?.output() ?? '');
    page.setDefaultTimeout(20_000);
    page.on('pageerror', (error) => pageErrors.push(`${page.url()}: ${error.message}`));
    await page.goto(`${url}/`);
    await page.getByLabel('Email').fill(owner.email);
    await page.getByLabel('Password').fill(owner.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Fleet overview' }).waitFor();
  }, 240_000);

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    await agent?.kill('SIGKILL');
    await server?.kill('SIGKILL');
    await dropRedisKeys(REDIS_URL, [`${keyPrefix}*`]).catch((error: unknown) => console.warn(`could not drop test keys: ${String(error)}`));
    if (dir) await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  });

  it('lists the real agent with the address of its primary interface, and an older agent with its connection address, labelled', async () => {
    await nav('Devices').click();
    const rows = page.locator('.vbody [role="row"]');
    await shown(rows.filter({ hasText: 'Online' }), 40_000);
    const row = rows.filter({ hasText: 'Online' }).first();
    deviceId = (await row.getAttribute('data-device-id')) ?? '';
    const detail = await call<{ name: string; inventory: { primaryAddress?: string } }>('devices.get', 'query', { id: deviceId });
    deviceName = detail.name;
    expect(detail.inventory.primaryAddress).toMatch(/^\d+\.\d+\.\d+\.\d+$|:/);
    expect(detail.inventory.primaryAddress).not.toMatch(/^127\./);
    await text(row.locator('.col-ip')).toBe(detail.inventory.primaryAddress!);

    const old = page.locator(`.vbody [data-device-id="${oldAgent.id}"]`);
    await text(old.locator('.col-ip')).toBe('127.0.0.1connection');
    // The whole OS name is there, wrapped in its cell and in the tooltip: nothing is cut off unseen.
    const os = old.locator('.col-os');
    expect(await os.getAttribute('title')).toContain(LONG_DISTRO);
    expect(await os.textContent()).toContain(LONG_DISTRO);
    await shot('01-devices');
  }, 90_000);

  it('shows the CPU clock, disks or file systems, and one placeholder for what is unknown', async () => {
    await page.goto(`${url}/devices/${deviceId}?tab=inventory`);
    const system = page.getByRole('region', { name: 'System' });
    await text(system.locator('div', { hasText: /^Clock/ }).locator('dd')).toMatch(/^\d+\.\d\d GHz$/);
    const storage = page.getByRole('region', { name: 'Disks and network' });
    await shown(storage.getByRole('list', { name: /Disks|File systems/ }).getByRole('listitem'));
    await text(storage.getByRole('list', { name: 'File systems' }).getByRole('listitem').filter({ hasText: /^\/ · / })).toMatch(/GB/);
    await shown(storage.getByRole('list', { name: 'Network interfaces' }).getByText('primary'));
    await shot('02-inventory');

    await page.goto(`${url}/devices/${oldAgent.id}?tab=inventory`);
    const fields = await page.getByRole('region', { name: 'System' }).locator('dd').allTextContents();
    // The serial was reported as "-": shown like every other unknown value, never a lone hyphen.
    expect(fields.map((field) => field.trim())).not.toContain('-');
    await text(page.getByRole('region', { name: 'System' }).locator('div', { hasText: /^Serial/ }).locator('dd')).toBe('—');
    await text(page.getByRole('region', { name: 'System' }).locator('div', { hasText: /^Manufacturer/ }).locator('dd')).toBe('—');
  }, 60_000);

  it('shows a command\'s duration in the history and copies its output', async () => {
    await page.goto(`${url}/devices/${deviceId}?tab=commands`);
    await page.getByLabel('Command', { exact: true }).fill('echo copied-output-42');
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await text(page.locator('.command-output .badge'), 30_000).toBe('Succeeded');
    await page.locator('.command-output').getByRole('button', { name: 'Copy output' }).click();
    await text(page.locator('.command-output').getByRole('button', { name: 'Copied' })).toBe('Copied');
    expect(await page.evaluate<string>('navigator.clipboard.readText()')).toContain('copied-output-42');
    const history = page.getByRole('table').filter({ hasText: 'copied-output-42' });
    const headers = await history.locator('th').allTextContents();
    const durationIndex = headers.indexOf('Duration');
    expect(durationIndex).toBeGreaterThan(0);
    await text(history.locator('tbody tr').first().locator('td').nth(durationIndex)).toMatch(/^\d+(\.\d)? (ms|s)$|min/);
    await shot('03-command-history');
  }, 60_000);

  it('selects devices in the list and acts on them: a bulk command, tickets, decommission', async () => {
    await nav('Devices').click();
    const row = page.locator(`.vbody [data-device-id="${deviceId}"]`);
    const old = page.locator(`.vbody [data-device-id="${oldAgent.id}"]`);
    await row.getByRole('checkbox').check();
    const bar = page.getByRole('region', { name: 'Selected devices' });
    await text(bar.locator('strong')).toBe('1 selected');
    await bar.getByRole('button', { name: 'Run a command…' }).click();
    await bar.getByLabel(/Command for 1 device/).fill('echo bulk-hello');
    await bar.getByRole('button', { name: 'Run on 1' }).click();
    const progress = bar.getByLabel('Job progress');
    await expect.poll(() => progress.getAttribute('data-job-status'), { timeout: 40_000 }).toBe('completed');
    await text(progress.locator('p')).toContain('1 of 1 done · 1 succeeded · 0 failed');
    await shot('04-bulk-job');

    await old.getByRole('checkbox').check();
    await text(bar.locator('strong')).toBe('2 selected');
    await bar.getByRole('button', { name: 'Create tickets…' }).click();
    await bar.getByLabel(/Ticket title/).fill('Disk check');
    await bar.getByRole('button', { name: 'Create 2 ticket(s)' }).click();
    await text(bar.getByRole('status')).toContain('2 tickets created');
    await shown(bar.getByRole('link', { name: `Disk check (${deviceName})` }));

    // Select every row, then unselect the real agent: only the older one is decommissioned.
    await page.getByRole('checkbox', { name: 'Select every device on this page' }).check();
    await row.getByRole('checkbox').uncheck();
    await text(bar.locator('strong')).toBe('1 selected');
    page.once('dialog', (dialog) => void dialog.accept());
    await bar.getByRole('button', { name: 'Decommission' }).click();
    await text(bar.getByRole('status')).toContain('1 decommissioned');
    await old.waitFor({ state: 'detached' });
    await shown(row);
    await shot('05-bulk-decommissioned');
  }, 90_000);

  it('links tickets to devices: the device page lists them and creates one, the ticket form picks a device', async () => {
    await page.goto(`${url}/devices/${deviceId}?tab=tickets`);
    const list = page.getByRole('region', { name: 'Tickets about this device' });
    await shown(list.getByRole('link', { name: `Disk check (${deviceName})` }));
    const form = page.getByRole('region', { name: 'New ticket about this device' });
    await form.getByLabel('Title').fill('Fan noise');
    await form.getByRole('button', { name: 'Create ticket' }).click();
    await page.getByRole('heading', { name: 'Fan noise' }).waitFor();
    await shown(page.getByRole('region', { name: 'Details' }).getByRole('link', { name: deviceName }));

    await nav('Tickets').click();
    const create = page.getByRole('region', { name: 'New ticket' });
    await create.getByLabel('Title').fill('Printer driver');
    await create.getByLabel('Find a device').fill(deviceName.slice(0, 6));
    await expect.poll(() => create.getByLabel('Device', { exact: true }).locator('option').allTextContents()).toContain(deviceName);
    await create.getByLabel('Device', { exact: true }).selectOption({ label: deviceName });
    await create.getByRole('button', { name: 'Create ticket' }).click();
    await page.getByRole('heading', { name: 'Printer driver' }).waitFor();
    await page.getByRole('region', { name: 'Details' }).getByRole('link', { name: deviceName }).click();
    await page.waitForURL(new RegExp(`/devices/${deviceId}$`));
    await nav('Tickets').click();
    const table = page.getByRole('table', { name: 'Tickets' });
    await shown(table.locator('tr', { hasText: 'Printer driver' }).getByRole('link', { name: deviceName }));
    await shot('06-tickets');
  }, 60_000);

  it('shows a device whose agent presents refused credentials, with when and from where, on its page and in the list', async () => {
    const { token } = await call<{ token: string }>('tokens.create', 'mutation', { name: 'refused', maxUses: 1 });
    const machine = fakeInventory(`refused-${randomBytes(4).toString('hex')}`, 'pc-refused');
    const refused = await call<{ deviceId: string }>('agent.enroll', 'mutation', { token, inventory: machine });
    const socket = createWSClient({
      url: `${url.replace(/^http/, 'ws')}/trpc`, WebSocket: WebSocket as never,
      connectionParams: { deviceId: refused.deviceId, deviceSecret: WRONG_SECRET }, retryDelayMs: () => 60_000,
    });
    const client = createTRPCUntypedClient({ links: [wsLink({ client: socket })] });
    await expect(client.mutation('agent.heartbeat', { agentVersion: '0.1.0', intervalMs: 15_000, bufferedRecords: 0, bufferedBytes: 0, droppedTotal: 0 }))
      .rejects.toMatchObject({ data: { code: 'UNAUTHORIZED' } });
    await socket.close();

    await nav('Devices').click();
    const row = page.locator(`.vbody [data-device-id="${refused.deviceId}"]`);
    await shown(row.getByText('Refused'), 20_000);
    await page.goto(`${url}/devices/${refused.deviceId}`);
    const notice = page.getByRole('region', { name: 'Credentials refused' });
    await text(notice.locator('p').first()).toMatch(
      /^This device's agent is using credentials the server does not accept \(since \d{2}:\d{2}, from 127\.0\.0\.1\)\. Re-enroll it with a token\.$/,
    );
    await shown(page.locator('.page-header').getByText('Credentials refused'));
    await shot('07-credentials-refused');
  }, 60_000);

  it('fits a 390 px phone on every page: no sideways scrolling, every tab on screen', async () => {
    await page.setViewportSize(PHONE);
    const open = async (name: string) => {
      if (!(await nav(name).isVisible())) await page.getByRole('button', { name: 'Menu' }).click();
      await nav(name).click();
    };
    const pages: [string, () => Promise<unknown>][] = [
      ['Overview', () => page.getByRole('heading', { name: 'Fleet overview' }).waitFor()],
      ['Devices', () => shown(page.locator('.vbody [role="row"]'))],
      ['Tickets', () => shown(page.getByRole('table', { name: 'Tickets' }))],
      ['Reports', () => page.getByRole('heading', { name: 'Reports' }).waitFor()],
      ['Audit log', () => shown(page.getByRole('table', { name: 'Audit log' }).getByRole('row').filter({ hasText: / ran / }))],
      ['Data not stored', () => page.getByRole('heading', { name: 'Data we could not store' }).waitFor()],
      ['Enrollment', () => shown(page.locator('tr', { hasText: 'refused' }))],
      ['Users & roles', () => shown(page.getByRole('cell', { name: owner.email }))],
    ];
    for (const [name, ready] of pages) {
      await open(name);
      await ready();
      await fitsWidth(name);
      await shot(`08-phone-${name.replace(/\W+/g, '-').toLowerCase()}`);
    }
    await open('Tickets');
    await page.getByRole('link', { name: 'Printer driver' }).click();
    await page.getByRole('heading', { name: 'Printer driver' }).waitFor();
    await fitsWidth('a ticket');
    await shot('08-phone-ticket');

    await page.goto(`${url}/devices/${deviceId}`);
    await shown(page.getByRole('tab', { name: 'Audit trail' }));
    const tabs = page.getByRole('tablist', { name: 'Device sections' }).getByRole('tab');
    const names = await tabs.allTextContents();
    expect(names).toContain('Audit trail');
    for (const name of names) {
      const tab = page.getByRole('tab', { name });
      const box = await tab.boundingBox();
      expect(box && box.x >= 0 && box.x + box.width <= PHONE.width, `the ${name} tab is on screen`).toBe(true);
      await tab.click();
      await page.waitForTimeout(300);
      await fitsWidth(`the device's ${name} tab`);
      await shot(`09-phone-device-${name.replace(/\W+/g, '-').toLowerCase()}`);
    }
    await page.setViewportSize({ width: 1280, height: 800 });
  }, 120_000);

  it('says when the server stops answering, keeps the page and menu, greys live values, and recovers by itself', async () => {
    await page.setViewportSize({ width: 1280, height: 800 });
    // The fleet table is loaded once, as a person would have it, before the server goes away.
    await page.goto(`${url}/devices`);
    await page.locator(`.vbody [data-device-id="${deviceId}"]`).getByRole('link').click();
    await text(page.locator('.page-header .badge').first(), 30_000).toBe('Online');
    await text(page.getByRole('list', { name: 'Latest values' })).toContain('%');
    await shot('10-before-outage');

    await server!.kill('SIGTERM');
    const banner = page.getByTestId('connection-banner');
    await shown(banner, 30_000);
    await text(banner).toContain('Connection to the server lost - retrying… values below may be out of date');
    await text(page.getByTestId('status-stale')).toBe('Last known: Online');
    const latest = page.getByRole('region', { name: 'Latest values' }).locator('[data-stale]');
    await expect.poll(() => latest.getAttribute('data-stale')).toBe('true');
    await text(latest.locator('.stale-note')).toMatch(/^Last updated .+ · the server is not answering$/);
    await shot('11-server-down-device');

    // Moving around keeps the layout: the menu, the banner, and the page's own content or error inside it.
    await nav('Devices').click();
    await shown(banner);
    await shown(page.getByRole('heading', { name: 'Devices' }));
    await shot('11b-server-down-devices');
    await expect.poll(() => page.locator('.vtable').locator('xpath=..').getAttribute('data-stale')).toBe('true');
    // A page never loaded before waits for the server inside its content area; the menu stays.
    await nav('Reports').click();
    await shown(page.getByRole('heading', { name: 'Reports' }));
    await shown(banner);
    await nav('Devices').click();
    await page.locator(`.vbody [data-device-id="${deviceId}"]`).getByRole('link').click();
    await page.waitForURL(new RegExp(`/devices/${deviceId}$`));
    await shown(page.getByRole('heading', { name: deviceName }));
    await shown(nav('Overview'));
    await shot('12-server-down-navigated');

    await startServer();
    await banner.waitFor({ state: 'detached', timeout: 30_000 });
    await text(page.locator('.page-header .badge').first(), 40_000).toBe('Online');
    await expect.poll(() => page.getByRole('region', { name: 'Latest values' }).locator('[data-stale]').getAttribute('data-stale'), { timeout: 30_000 }).toBe('false');
    // Live values move again once the agent is back and the feed reconnected.
    const before = await page.getByRole('region', { name: 'Latest values' }).locator('.muted.small').last().textContent();
    await expect.poll(async () => page.getByRole('region', { name: 'Latest values' }).locator('.muted.small').last().textContent(), { timeout: 40_000 }).not.toBe(before);
    await shot('13-recovered');
  }, 180_000);

  it('threw no error on any page', () => {
    expect(pageErrors).toEqual([]);
  });
});
