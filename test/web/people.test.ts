import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import {
  hasChromium, logIn, nav, openBrowser, screenshot, shown, startConsoleServer, textOf, type Account, type ConsoleBrowser, type ConsoleServer,
} from './console-support.ts';

/**
 * A new admin's first hour with people, in real Chromium against a real server: a new tab with a
 * live cookie is signed in; the owner adds people (a password made by the server and shown once,
 * or one they set), changes a role, resets a password and removes someone, and each change reaches
 * that person's own browser; anyone changes their own password (wrong current one refused, other
 * sessions ended, this one kept); the install's owner creates an organization whose first person
 * sees only it; the server's health is on the System page, not on the overview.
 */
describe.skipIf(!hasChromium)('people, accounts and organizations in the console', () => {
  let s: ConsoleServer;
  let b: ConsoleBrowser;
  /**
   * A page whose session another person just ended may refresh in the background before the
   * test reloads it: that refusal (401 on a page other than the login page) is the test's doing.
   */
  const forgetEndedSessionRefresh = () => b.takeErrors(/^https?:\/\/[^/]+\/(?!login)\S*: Failed to load resource: .* 401 /);
  let owner: Page;
  const tech: Account = { email: 'tech@people.example', password: '' };

  /** Accepts the next confirm() the page shows. */
  const acceptNextDialog = (page: Page) => page.once('dialog', (dialog) => void dialog.accept());
  const oneTimePassword = async (page: Page) => {
    const shownPassword = page.getByTestId('one-time-password');
    await shown(shownPassword);
    return (await shownPassword.textContent())!.trim();
  };
  const personRow = (page: Page, email: string) => page.getByRole('row').filter({ hasText: email });
  const freshLogin = async (account: Account) => {
    const { page } = await b.person();
    await logIn(page, s.url, account);
    return page;
  };

  beforeAll(async () => {
    s = await startConsoleServer('web-people');
    b = await openBrowser();
    owner = (await b.person()).page;
  }, 240_000);
  afterAll(async () => {
    await b?.close().catch(() => undefined);
    await s?.stop();
  });

  it('lands a new tab and a reload signed in while the cookie is valid, and on the login page without it', async () => {
    await logIn(owner, s.url, s.owner);
    const second = await owner.context().newPage();
    await second.goto(`${s.url}/users`);
    await second.getByRole('heading', { name: 'Users & roles' }).waitFor();
    expect(second.url()).toBe(`${s.url}/users`);
    await second.reload();
    await second.getByRole('heading', { name: 'Users & roles' }).waitFor();
    await second.close();
    // Another browser has no cookie: the login page, remembering where it was going.
    const { page: stranger } = await b.person();
    await stranger.goto(`${s.url}/users`);
    await stranger.waitForURL(/\/login\?next=%2Fusers$/);
    await stranger.getByLabel('Email').fill(s.owner.email);
    await stranger.getByLabel('Password').fill(s.owner.password);
    await stranger.getByRole('button', { name: 'Log in' }).click();
    await stranger.getByRole('heading', { name: 'Users & roles' }).waitFor();
    await stranger.context().close();
  }, 60_000);

  it('adds people with a password made once or set by the admin, and says in words what went wrong', async () => {
    await nav(owner, 'Users & roles').click();
    await expect(owner.getByText(/needs a users\.update procedure|API does not have/).count()).resolves.toBe(0);
    const add = owner.getByRole('region', { name: 'Add a person' });
    await add.getByLabel('Email').fill(tech.email);
    await add.getByLabel('Name').fill('Tess Tech');
    await add.getByLabel('Role').selectOption('technician');
    await add.getByRole('button', { name: 'Add person' }).click();
    tech.password = await oneTimePassword(owner);
    expect(tech.password).toMatch(/^[A-Za-z0-9_-]{16}$/);
    await shown(personRow(owner, tech.email).getByText('Tess Tech'));
    await screenshot(owner, 'people-01-added');
    await owner.getByRole('button', { name: 'Done' }).click();

    await add.getByLabel('Email').fill('vera@people.example');
    await add.getByLabel('Role').selectOption('viewer');
    await add.getByLabel('First password').selectOption('Set by me');
    await add.getByLabel('Password', { exact: true }).fill('vera chose this one');
    await add.getByRole('button', { name: 'Add person' }).click();
    await shown(owner.getByText('vera@people.example can now log in as viewer.'));
    expect(await owner.getByTestId('one-time-password').count()).toBe(0);

    // The same email again: refused in words.
    await add.getByLabel('Email').fill(tech.email);
    await add.getByLabel('First password').selectOption('Made by the server, shown once');
    await add.getByRole('button', { name: 'Add person' }).click();
    await textOf(owner.getByRole('alert')).toBe(`Someone with the email ${tech.email} already has an account`);
    await textOf(owner.getByRole('region', { name: /^People in/ }).getByRole('heading')).toMatch(/\(3 people\)$/);
  }, 60_000);

  it('changes a role, and the person is logged out so the new role applies at once', async () => {
    const techPage = await freshLogin(tech);
    await shown(nav(techPage, 'Tickets'));
    expect(await nav(techPage, 'Users & roles').count()).toBe(0);

    acceptNextDialog(owner);
    await owner.getByRole('combobox', { name: 'Role of Tess Tech' }).selectOption('admin');
    await expect.poll(() => owner.getByRole('combobox', { name: 'Role of Tess Tech' }).inputValue()).toBe('admin');
    // The technician's session ended: their next page load is the login page.
    await techPage.reload();
    await techPage.waitForURL(/\/login/);
    forgetEndedSessionRefresh();
    const asAdmin = await freshLogin(tech);
    await nav(asAdmin, 'Users & roles').click();
    // An admin cannot touch the owner, nor add an owner.
    await shown(personRow(asAdmin, s.owner.email).getByText('Above your role'));
    expect(await asAdmin.getByRole('region', { name: 'Add a person' }).getByLabel('Role').locator('option', { hasText: 'Owner' }).count()).toBe(0);
    await screenshot(asAdmin, 'people-02-admin-view');
    await asAdmin.context().close();
    await techPage.context().close();
  }, 60_000);

  it("resets someone's password: the old one stops working, the new one is shown once", async () => {
    const vera = await freshLogin({ email: 'vera@people.example', password: 'vera chose this one' });
    acceptNextDialog(owner);
    await owner.getByRole('button', { name: 'Reset the password of vera@people.example' }).click();
    const fresh = await oneTimePassword(owner);
    await vera.reload();
    await vera.waitForURL(/\/login/);
    forgetEndedSessionRefresh();
    await vera.getByLabel('Email').fill('vera@people.example');
    await vera.getByLabel('Password').fill('vera chose this one');
    await vera.getByRole('button', { name: 'Log in' }).click();
    await textOf(vera.getByRole('alert')).toBe('Wrong email or password');
    await vera.getByLabel('Password').fill(fresh);
    await vera.getByRole('button', { name: 'Log in' }).click();
    await vera.getByRole('heading', { name: 'Fleet overview' }).waitFor();
    await vera.context().close();
    await owner.getByRole('button', { name: 'Done' }).click();
  }, 60_000);

  it('changes one\'s own password on My account: the current one is required, other sessions end, this one stays', async () => {
    const elsewhere = await freshLogin(tech);
    const page = await freshLogin(tech);
    await nav(page, 'My account').click();
    await page.getByLabel('Current password').fill('not my password');
    await page.getByLabel('New password', { exact: true }).fill('tess has a new passphrase');
    await page.getByLabel('New password again').fill('tess has a new passphrase');
    await page.getByRole('button', { name: 'Change password' }).click();
    await textOf(page.getByRole('alert')).toBe('The current password is wrong');
    await page.getByLabel('Current password').fill(tech.password);
    await page.getByLabel('New password again').fill('tess has a typo');
    await page.getByRole('button', { name: 'Change password' }).click();
    await textOf(page.getByRole('alert')).toBe('The two new passwords differ: type the same one twice.');
    await page.getByLabel('New password again').fill('tess has a new passphrase');
    await page.getByRole('button', { name: 'Change password' }).click();
    await shown(page.getByText('Your password is changed.'));
    await screenshot(page, 'people-03-account');
    // This tab keeps working on its new cookie, the other browser is logged out.
    await nav(page, 'Users & roles').click();
    await shown(personRow(page, tech.email));
    await elsewhere.reload();
    await elsewhere.waitForURL(/\/login/);
    forgetEndedSessionRefresh();
    tech.password = 'tess has a new passphrase';
    await (await freshLogin(tech)).context().close();
    await page.context().close();
    await elsewhere.context().close();
  }, 60_000);

  it('removes someone: they are logged out, cannot log in, and are gone from the list', async () => {
    const techPage = await freshLogin(tech);
    await owner.reload();
    acceptNextDialog(owner);
    await owner.getByRole('button', { name: 'Remove Tess Tech' }).click();
    await personRow(owner, tech.email).waitFor({ state: 'detached' });
    await techPage.reload();
    await techPage.waitForURL(/\/login/);
    forgetEndedSessionRefresh();
    await techPage.getByLabel('Email').fill(tech.email);
    await techPage.getByLabel('Password').fill(tech.password);
    await techPage.getByRole('button', { name: 'Log in' }).click();
    await textOf(techPage.getByRole('alert')).toBe('Wrong email or password');
    await techPage.context().close();
  }, 60_000);

  it("lets the install's owner create an organization whose first person sees only it", async () => {
    await nav(owner, 'Organizations').click();
    await owner.getByLabel('Organization name').fill('Client Alpha');
    await owner.getByLabel("First person's email").fill('boss@alpha.example');
    await owner.getByLabel('Their name').fill('Alma Boss');
    await owner.getByRole('button', { name: 'Create organization' }).click();
    const password = await oneTimePassword(owner);
    const table = owner.getByRole('table', { name: 'Organizations' });
    await shown(table.getByRole('row').filter({ hasText: 'Client Alpha' }).getByText('1 person'));
    await textOf(table.getByRole('row').filter({ hasText: '(yours)' })).toContain('2 people');
    await textOf(owner.getByRole('region', { name: /^\d+ organizations?$/ }).getByRole('heading')).toBe('2 organizations');
    await screenshot(owner, 'people-04-organizations');

    const boss = await freshLogin({ email: 'boss@alpha.example', password });
    await textOf(boss.getByLabel('Organization', { exact: true })).toBe('Client Alpha');
    await nav(boss, 'Organizations').click();
    await expect.poll(() => boss.getByRole('table', { name: 'Organizations' }).getByRole('row').count()).toBe(2);
    await shown(boss.getByRole('row').filter({ hasText: 'Client Alpha' }));
    expect(await boss.getByRole('button', { name: 'Create organization' }).count()).toBe(0);
    await nav(boss, 'Users & roles').click();
    await expect.poll(() => boss.getByRole('table', { name: 'People' }).getByRole('row').count()).toBe(2);
    await nav(boss, 'System').click();
    await shown(boss.getByText("The server's stores are looked after by the people who run it."));
    expect(await boss.getByRole('list', { name: 'Store health' }).count()).toBe(0);
    await screenshot(boss, 'people-05-tenant-system');
    await boss.context().close();
  }, 60_000);

  it("shows the server's health on the System page, and the overview only the fleet", async () => {
    await nav(owner, 'System').click();
    await expect.poll(() => owner.getByRole('list', { name: 'Store health' }).getByRole('listitem').count()).toBe(5);
    await textOf(owner.getByRole('list', { name: 'Store health' })).toContain('Devices, people and settings');
    await shown(owner.getByRole('region', { name: 'Waiting to be stored' }));
    await screenshot(owner, 'people-06-system');
    await nav(owner, 'Overview').click();
    await shown(owner.getByText('No devices enrolled yet'));
    expect(await owner.getByRole('list', { name: 'Store health' }).count()).toBe(0);
    expect(await owner.getByText(/Status view|analytics/i).count()).toBe(0);
  }, 60_000);

  it('logged no console errors on any page, and refused only what the tests tried on purpose', () => {
    expect(b.unexpectedErrors()).toEqual([]);
    // A duplicate email, a wrong current password, a wrong old password, a removed person's login.
    expect(b.refusedRequests(), b.errors.join('\n')).toBe(4);
  });
});
