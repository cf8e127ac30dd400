import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { fakeInventory } from '@ninjait/server/testing';
import { hasChromium, logIn, nav, openBrowser, screenshot, shown, startConsoleServer, type Account, type ConsoleBrowser, type ConsoleServer } from './console-support.ts';

/**
 * A provider's technician in real Chromium, on the embedded defaults: the install's organization is
 * the provider; its owner adds a client with a device of its own. The technician sees both
 * organizations in the header, the cross-client fleet, switches into the client and sees only its
 * devices, then switches back home.
 */
describe.skipIf(!hasChromium)('the organization switcher', () => {
  let s: ConsoleServer;
  let b: ConsoleBrowser;
  let page: Page;
  const tech: Account = { email: 'tina@msp.example', password: 'tina has a long password' };

  /** Enrolls a machine called `hostname` into the organization the `token` session is in. */
  const enroll = async (token: string, hostname: string) => {
    const created = await s.call<{ token: string }>(token, 'tokens.create', 'mutation', { name: `for ${hostname}` });
    await s.call('', 'agent.enroll', 'mutation', { token: created.token, inventory: fakeInventory(`${hostname}-key`, hostname) });
  };
  const switcher = () => page.getByRole('banner').getByLabel('Organization');

  beforeAll(async () => {
    s = await startConsoleServer('web-switcher');
    b = await openBrowser();
    page = (await b.person()).page;
    const owner = await s.apiLogin(s.owner);
    await s.call(owner, 'users.create', 'mutation', { email: tech.email, password: tech.password, role: 'technician', name: 'Tina' });
    const client = await s.call<{ id: string }>(owner, 'providers.createClient', 'mutation', { name: 'Contoso Dental' });
    await enroll(owner, 'msp-office-pc');
    const inClient = await s.call<{ sessionToken: string }>(owner, 'auth.switchOrganization', 'mutation', { organizationId: client.id });
    await enroll(inClient.sessionToken, 'contoso-reception');
  }, 240_000);
  afterAll(async () => {
    await b?.close().catch(() => undefined);
    await s?.stop();
  });

  it('shows a provider technician every organization they work in, and the cross-client fleet', async () => {
    await logIn(page, s.url, tech);
    await shown(switcher());
    // The switcher shows the current organization at once and the others when their list arrives.
    await expect.poll(() => switcher().locator('option').count(), { timeout: 20_000 }).toBe(2);
    const options = await switcher().locator('option').allTextContents();
    expect(options.some((text) => text.includes('Contoso Dental (client)'))).toBe(true);
    await nav(page, 'Client fleet').click();
    const devices = page.getByRole('table', { name: 'Devices of all organizations' });
    await shown(devices.getByText('contoso-reception'));
    await shown(devices.getByText('msp-office-pc'));
    await expect(devices.getByRole('row').filter({ hasText: 'contoso-reception' }).textContent()).resolves.toContain('Contoso Dental');
    await screenshot(page, 'switcher-01-fleet');
  }, 60_000);

  it("switches into the client and sees only its devices, then back home", async () => {
    const client = await switcher().locator('option', { hasText: 'Contoso Dental' }).getAttribute('value');
    await switcher().selectOption(client!);
    await page.getByRole('heading', { name: 'Fleet overview' }).waitFor();
    await expect.poll(() => switcher().inputValue()).toBe(client);
    await nav(page, 'Devices').click();
    await shown(page.getByText('contoso-reception'));
    expect(await page.getByText('msp-office-pc').count()).toBe(0);
    // A technician in the client too: no people or enrollment pages.
    expect(await nav(page, 'Users & roles').count()).toBe(0);
    await screenshot(page, 'switcher-02-client');

    const home = await switcher().locator('option', { hasNotText: 'Contoso Dental' }).getAttribute('value');
    await switcher().selectOption(home!);
    await page.getByRole('heading', { name: 'Fleet overview' }).waitFor();
    await expect.poll(() => switcher().inputValue()).toBe(home);
    await nav(page, 'Devices').click();
    await shown(page.getByText('msp-office-pc'));
    expect(await page.getByText('contoso-reception').count()).toBe(0);
    expect(b.unexpectedErrors()).toEqual([]);
  }, 60_000);
});
