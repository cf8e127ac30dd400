import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { totpAt } from '@ninjait/server/auth/totp';
import { hasChromium, logIn, nav, openBrowser, screenshot, shown, startConsoleServer, type ConsoleBrowser, type ConsoleServer } from './console-support.ts';

const STEP_MS = 30_000;

/**
 * Two-factor sign-in in real Chromium against a real server: the owner sets up an authenticator
 * app under My account (the key typed into a stand-in app, the code it shows confirmed, the
 * recovery codes shown once), then a fresh browser's login asks for the code after the password
 * and lets them in with it; the sessions list shows both browsers and signs the other one out.
 */
describe.skipIf(!hasChromium)('two-factor sign-in in the console', () => {
  let s: ConsoleServer;
  let b: ConsoleBrowser;
  let owner: Page;
  let secret = '';
  let confirmedAt = 0;

  beforeAll(async () => {
    s = await startConsoleServer('web-2fa');
    b = await openBrowser();
    owner = (await b.person()).page;
  }, 240_000);
  afterAll(async () => {
    await b?.close().catch(() => undefined);
    await s?.stop();
  });

  it('sets up an authenticator app and shows the recovery codes once', async () => {
    await logIn(owner, s.url, s.owner);
    await nav(owner, 'My account').click();
    await owner.getByRole('button', { name: 'Set up an authenticator app' }).click();
    const key = owner.getByTestId('totp-secret');
    await shown(key);
    secret = (await key.textContent())!.trim();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    await owner.getByLabel('Code from the app').fill('000000');
    await owner.getByRole('button', { name: 'Turn on' }).click();
    await shown(owner.getByText('That code does not match'));
    confirmedAt = Date.now();
    await owner.getByLabel('Code from the app').fill(totpAt(secret, confirmedAt));
    await owner.getByRole('button', { name: 'Turn on' }).click();
    const codes = owner.getByTestId('recovery-codes');
    await shown(codes);
    expect((await codes.textContent())!.trim().split('\n')).toHaveLength(10);
    await screenshot(owner, 'two-factor-01-on');
  }, 90_000);

  it('asks a new browser for the code after the password, and signs the other browser out from the sessions list', async () => {
    const { page } = await b.person();
    await page.goto(`${s.url}/login`);
    await page.getByLabel('Email').fill(s.owner.email);
    await page.getByLabel('Password').fill(s.owner.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    const code = page.getByLabel('Authentication code');
    await shown(code);
    await code.fill(totpAt(secret, confirmedAt + STEP_MS));
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Fleet overview' }).waitFor();

    await owner.reload();
    const sessions = owner.getByRole('region', { name: 'Where you are signed in' });
    await shown(sessions.getByText('This browser'));
    // Every other session (the new browser's among them), one by one.
    const signOut = sessions.getByRole('button', { name: 'Sign out' });
    await expect.poll(() => signOut.count(), { timeout: 20_000 }).toBeGreaterThan(0);
    for (let left = await signOut.count(); left > 0; left = await signOut.count()) {
      await signOut.first().click();
      await expect.poll(() => signOut.count(), { timeout: 20_000 }).toBeLessThan(left);
    }
    // The other browser's next call finds its session ended: back to the login page.
    await page.reload();
    await page.waitForURL(/\/login/);
    await screenshot(owner, 'two-factor-02-sessions');
  }, 90_000);
});
