import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { fakeInventory } from '@ninjait/server/testing';
import { hasChromium, logIn, nav, openBrowser, screenshot, shown, startConsoleServer, type ConsoleBrowser, type ConsoleServer } from './console-support.ts';

/**
 * An admin scopes patch policies in real Chromium against a real server: a policy for a site
 * made with the scope picker, changed, and the API then answers that the site's device is under
 * it (the organization's device outside the site is not); then it is deleted.
 */
describe.skipIf(!hasChromium)('patch policies by scope in the console', () => {
  let s: ConsoleServer;
  let b: ConsoleBrowser;
  let page: Page;
  let session: string;
  const ids: string[] = [];

  beforeAll(async () => {
    s = await startConsoleServer('web-patch-policies');
    b = await openBrowser();
    session = await s.apiLogin(s.owner);
    for (const host of ['policy-web-01', 'policy-db-01']) {
      const { token } = await s.call<{ token: string }>(session, 'tokens.create', 'mutation', { name: `policy ${host}`, maxUses: 1 });
      ids.push((await s.call<{ deviceId: string }>('', 'agent.enroll', 'mutation', { token, inventory: fakeInventory(`${host}-${Date.now()}`, host) })).deviceId);
    }
    const site = await s.call<{ id: string }>(session, 'fleet.sites.create', 'mutation', { name: 'Lyon' });
    await s.call(session, 'fleet.device.setSite', 'mutation', { deviceId: ids[0], siteId: site.id });
    page = (await b.person()).page;
  }, 240_000);
  afterAll(async () => {
    await b?.close().catch(() => undefined);
    await s?.stop();
  });

  it('adds a site policy with the scope picker, edits it, and the site\'s device is under it', async () => {
    await logIn(page, s.url, s.owner);
    await nav(page, 'Patches').click();
    await page.getByRole('button', { name: 'Add policy' }).click();
    const form = page.getByRole('form', { name: 'New patch policy' });
    await form.getByLabel('Name').fill('Lyon servers');
    await form.getByLabel('Scope').selectOption('site');
    await form.getByLabel('Which site').selectOption({ label: 'Lyon' });
    await form.getByLabel('Window (cron)').fill('0 3 * * 0');
    await form.getByLabel('Reboot').selectOption('never');
    await form.getByRole('button', { name: 'Add policy' }).click();
    const table = page.getByRole('table', { name: 'Patch policies' });
    const row = table.getByRole('row').filter({ hasText: 'Lyon servers' });
    await shown(row);
    await expect.poll(async () => row.first().textContent()).toContain('Site: Lyon');

    await row.first().getByRole('button', { name: 'Edit' }).click();
    const edit = page.getByRole('form', { name: 'Edit patch policy' });
    await edit.getByLabel('Deploy approved updates automatically').check();
    await edit.getByRole('button', { name: 'Save policy' }).click();
    await expect.poll(async () => (await row.first().textContent()) ?? '', { timeout: 20_000 }).toMatch(/Yes/);

    type Effective = { source: { name: string; scopeKind: string } | null; policy: { reboot: string; autoApprove: boolean; windowCron: string | null } };
    const inSite = await s.call<Effective>(session, 'patches.policies.effective', 'query', { deviceId: ids[0] });
    expect(inSite).toMatchObject({ source: { name: 'Lyon servers', scopeKind: 'site' }, policy: { reboot: 'never', autoApprove: true, windowCron: '0 3 * * 0' } });
    expect((await s.call<Effective>(session, 'patches.policies.effective', 'query', { deviceId: ids[1] })).source).toBeNull();
    await screenshot(page, 'patch-policies');

    await row.first().getByRole('button', { name: 'Delete' }).click();
    await expect.poll(async () => row.count(), { timeout: 20_000 }).toBe(0);
    expect(b.unexpectedErrors()).toEqual([]);
  }, 240_000);
});
