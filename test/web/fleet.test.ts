import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { fakeInventory } from '@ninjait/server/testing';
import { hasChromium, logIn, nav, openBrowser, screenshot, shown, startConsoleServer, type ConsoleBrowser, type ConsoleServer } from './console-support.ts';

/**
 * An admin organises the fleet in real Chromium against a real server: creates a site and a tag
 * on the Fleet structure page, puts a device on the site and tags it from the device page, and
 * the fleet table filtered by that site or tag shows exactly that device.
 */
describe.skipIf(!hasChromium)('the structure of the fleet in the console', () => {
  let s: ConsoleServer;
  let b: ConsoleBrowser;
  let page: Page;
  const HOSTS = ['fleet-web-01', 'fleet-db-01'];
  const ids: string[] = [];

  beforeAll(async () => {
    s = await startConsoleServer('web-fleet');
    b = await openBrowser();
    const session = await s.apiLogin(s.owner);
    for (const host of HOSTS) {
      const { token } = await s.call<{ token: string }>(session, 'tokens.create', 'mutation', { name: `fleet ${host}`, maxUses: 1 });
      ids.push((await s.call<{ deviceId: string }>('', 'agent.enroll', 'mutation', { token, inventory: fakeInventory(`fleet-${host}-${Date.now()}`, host) })).deviceId);
    }
    page = (await b.person()).page;
  }, 240_000);
  afterAll(async () => {
    await b?.close().catch(() => undefined);
    await s?.stop();
  });

  it('creates a site and a tag, assigns them on the device page, and filters the fleet table by them', async () => {
    await logIn(page, s.url, s.owner);
    await nav(page, 'Fleet structure').click();
    await page.getByRole('heading', { name: 'Fleet structure' }).waitFor();

    const siteForm = page.getByRole('form', { name: 'New site' });
    await siteForm.getByLabel('Site name').fill('Head office');
    await siteForm.getByLabel('Time zone').fill('Europe/Paris');
    await siteForm.getByRole('button', { name: 'Add site' }).click();
    await shown(page.getByRole('table', { name: 'Sites' }).getByRole('row').filter({ hasText: 'Head office' }));

    await page.getByRole('tab', { name: 'Tags' }).click();
    const tagForm = page.getByRole('form', { name: 'New tag' });
    await tagForm.getByLabel('Tag name').fill('web');
    await tagForm.getByRole('button', { name: 'Add tag' }).click();
    await shown(page.getByRole('table', { name: 'Tags' }).getByRole('row').filter({ hasText: 'web' }));

    await page.goto(`${s.url}/devices/${ids[0]}`);
    const card = page.getByRole('region', { name: 'Site, tags and fields' });
    await shown(card);
    await card.first().getByLabel('Site').selectOption({ label: 'Head office' });
    // The box is checked once the server has the tag (it shows the device's tags as stored), so click, then wait.
    await card.first().getByLabel('web').click();
    await expect.poll(async () => (await card.first().getByLabel('web').isChecked()), { timeout: 20_000 }).toBe(true);
    await expect.poll(async () => card.first().getByLabel('Site').inputValue(), { timeout: 20_000 }).not.toBe('');

    await nav(page, 'Devices').click();
    const table = page.getByRole('table').first();
    await shown(table.getByRole('row').filter({ hasText: HOSTS[1]! }));
    await page.getByRole('search').getByLabel('Site').selectOption({ label: 'Head office' });
    await expect.poll(async () => table.getByRole('row').filter({ hasText: /fleet-/ }).allTextContents(), { timeout: 20_000 })
      .toEqual([expect.stringContaining(HOSTS[0]!)]);
    await page.getByRole('search').getByLabel('Site').selectOption({ label: 'All' });
    await page.getByRole('search').getByLabel('Tag').selectOption({ label: 'web' });
    await expect.poll(async () => table.getByRole('row').filter({ hasText: /fleet-/ }).allTextContents(), { timeout: 20_000 })
      .toEqual([expect.stringContaining(HOSTS[0]!)]);
    expect(page.url()).toMatch(/[?&]tag=[0-9a-f-]{36}/);
    await screenshot(page, 'fleet-filtered');
    expect(b.unexpectedErrors()).toEqual([]);
  }, 240_000);
});
