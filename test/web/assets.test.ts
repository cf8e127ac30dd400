import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { hasChromium, logIn, nav, openBrowser, screenshot, shown, startConsoleServer, type ConsoleBrowser, type ConsoleServer } from './console-support.ts';

const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

/**
 * Keeping the hardware list, in real Chromium against a real server: the operator adds an asset
 * with `ninjait asset add`; the owner adds another on the Assets page, finds it by search and by
 * "warranty ends within 30 days", and removes it; `ninjait asset list` sees the same list, and
 * `ninjait contract set|show` sets the prices the Contract page then shows.
 */
describe.skipIf(!hasChromium)('the Assets and Contract pages', () => {
  let s: ConsoleServer;
  let b: ConsoleBrowser;
  let page: Page;
  let org: string;

  beforeAll(async () => {
    s = await startConsoleServer('web-assets');
    b = await openBrowser();
    page = (await b.person()).page;
    org = (JSON.parse(await s.cli(['org', 'list', '--json'])) as { id: string }[])[0]!.id;
  }, 240_000);
  afterAll(async () => {
    await b?.close().catch(() => undefined);
    await s?.stop();
  });

  const row = (text: string) => page.getByRole('table', { name: 'Assets' }).getByRole('row').filter({ hasText: text });

  it('adds, finds by search and by warranty, and removes assets', async () => {
    await s.cli(['asset', 'add', '--org', org, '--name', 'Spare dock', '--kind', 'dock', '--serial', 'DK-77', '--warranty-end', inDays(400)]);
    await logIn(page, s.url, s.owner);
    await nav(page, 'Assets').click();
    await page.getByRole('heading', { name: 'Assets', exact: true }).waitFor();
    await shown(row('Spare dock'));

    const form = page.getByRole('form', { name: 'Add an asset' });
    await form.getByLabel('Name').fill('Reception laptop');
    await form.getByLabel('Kind').fill('laptop');
    await form.getByLabel('Serial number').fill('SN-100');
    await form.getByLabel('Assigned to').fill('Dana');
    await form.getByLabel('Warranty ends').fill(inDays(12));
    await form.getByRole('button', { name: 'Add asset' }).click();
    await shown(row('Reception laptop'));
    await shown(row('Reception laptop').getByText('12 days left'));
    await screenshot(page, 'assets-01-list');

    await page.getByLabel('Search').fill('dana');
    await expect.poll(() => page.getByRole('table', { name: 'Assets' }).getByRole('row').count()).toBe(2);
    await page.getByLabel('Search').fill('');
    await page.getByRole('combobox', { name: /^Warranty/ }).selectOption({ label: 'Warranty ends within 30 days' });
    await shown(row('Reception laptop'));
    await expect.poll(() => row('Spare dock').count()).toBe(0);
    await page.getByRole('combobox', { name: /^Warranty/ }).selectOption({ label: 'Any warranty' });
    await shown(row('Spare dock'));

    const listed = JSON.parse(await s.cli(['asset', 'list', '--org', org, '--warranty-days', '30', '--json'])) as { name: string }[];
    expect(listed.map((asset) => asset.name)).toEqual(['Reception laptop']);

    page.once('dialog', (dialog) => void dialog.accept());
    await row('Spare dock').getByRole('button', { name: 'Remove asset Spare dock' }).click();
    await expect.poll(() => row('Spare dock').count()).toBe(0);
  }, 120_000);

  it('shows the contract the operator set for next month beside the list prices in force', async () => {
    const now = new Date();
    const next = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString().slice(0, 7);
    await s.cli(['contract', 'set', '--org', org, '--per-device', '4', '--per-call', '0.0005', '--per-gb', '0.08', '--currency', 'eur', '--from', next]);
    expect(await s.cli(['contract', 'show', '--org', org])).toMatch(/No contract in force: list prices: USD 5 per device per month/);
    await nav(page, 'Contract').click();
    await page.getByRole('heading', { name: 'Contract', exact: true }).waitFor();
    await shown(page.getByText('No contract: the list prices apply.'));
    await shown(page.getByRole('table', { name: 'Contracts' }).getByRole('row').filter({ hasText: `${next}-01` }));
    await screenshot(page, 'assets-02-contract');
  }, 60_000);
});
