import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { hasChromium, logIn, nav, openBrowser, screenshot, shown, startConsoleServer, textOf, type ConsoleBrowser, type ConsoleServer } from './console-support.ts';

/**
 * An integrator's first key, in real Chromium against a real server: created in the console with
 * a scope and an expiry, shown once, used with plain HTTP against the REST surface (allowed where
 * its scope reaches, refused where it does not), its last use shown in the list, then revoked in
 * the console, after which the same call is refused.
 */
describe.skipIf(!hasChromium)('API keys in the console', () => {
  let s: ConsoleServer;
  let b: ConsoleBrowser;
  let page: Page;

  beforeAll(async () => {
    s = await startConsoleServer('web-api-keys');
    b = await openBrowser();
    page = (await b.person()).page;
  }, 240_000);
  afterAll(async () => {
    await b?.close().catch(() => undefined);
    await s?.stop();
  });

  const rest = (key: string, path: string, init: RequestInit = {}) =>
    fetch(`${s.url}${path}`, { ...init, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...init.headers } });
  const keyRow = (name: string) => page.getByRole('row').filter({ hasText: name });

  it('creates a scoped key shown once, which works over plain HTTP until it is revoked', async () => {
    await logIn(page, s.url, s.owner);
    await nav(page, 'API keys').click();
    await page.getByRole('heading', { name: 'API keys' }).waitFor();
    await page.getByLabel('Name').fill('PSA sync');
    await page.getByLabel('Expires in').selectOption({ label: '1 year' });
    // Read devices is ticked by default; this key may also open tickets.
    await page.getByLabel('Create and change tickets').check();
    await page.getByRole('button', { name: 'Create key' }).click();
    const shownKey = page.getByTestId('new-api-key');
    await shown(shownKey);
    const key = (await shownKey.textContent())!.trim();
    expect(key).toMatch(/^nk_/);
    await shown(page.getByRole('button', { name: 'Copy key' }));
    await textOf(keyRow('PSA sync').getByRole('cell').nth(4)).toBe('Never');

    const me = await rest(key, '/api/v1/me');
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ email: s.owner.email });
    const devices = await rest(key, '/api/v1/devices');
    expect(devices.status).toBe(200);
    expect(await devices.json()).toMatchObject({ items: [] });
    // Running commands is outside its scopes, even though its maker may.
    const run = await rest(key, '/api/v1/commands', { method: 'POST', body: JSON.stringify({ deviceId: '00000000-0000-4000-8000-000000000000', script: 'whoami' }) });
    expect(run.status).toBe(403);

    // The list shows when it was last used; the key itself is never shown again.
    await page.reload();
    await page.getByRole('heading', { name: 'API keys' }).waitFor();
    await expect.poll(async () => (await keyRow('PSA sync').getByRole('cell').nth(4).textContent())?.trim(), { timeout: 20_000 }).not.toBe('Never');
    expect(await page.getByTestId('new-api-key').count()).toBe(0);
    expect(await page.locator('main').innerText()).not.toContain(key);
    await screenshot(page, 'api-keys');

    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Revoke key PSA sync' }).click();
    await textOf(keyRow('PSA sync').getByRole('cell').nth(3)).toBe('Revoked');
    expect((await rest(key, '/api/v1/devices')).status).toBe(401);
    expect(b.unexpectedErrors()).toEqual([]);
  }, 120_000);
});
