import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startOidcProvider, type OidcTestProvider } from '../support/oidc-provider.ts';
import { hasChromium, nav, openBrowser, screenshot, shown, startConsoleServer, type ConsoleBrowser, type ConsoleServer } from './console-support.ts';

interface Person { id: string; email: string; role: string }

/**
 * Single sign-on in real Chromium against a real server and a real OpenID Connect provider (the
 * `oidc-provider` package in its own process, on another site: localhost vs 127.0.0.1). People
 * click "Sign in with SSO", type their work email, sign in on the provider's own pages and land
 * in the console with the role their groups map to; someone new is added on the way; someone whose
 * groups map to no role is refused with words; a provider's answer replayed is refused.
 */
describe.skipIf(!hasChromium)('single sign-on through an OpenID Connect provider', () => {
  let s: ConsoleServer;
  let b: ConsoleBrowser;
  let provider: OidcTestProvider;
  let ownerToken = '';
  /** The provider's redirect back to the console, as alice's browser followed it. */
  let aliceCallback = '';

  const people = () => s.call<Person[]>(ownerToken, 'users.list', 'query');

  /** From the login page, through the provider's login and consent pages. */
  async function signInWithSso(page: Page, email: string, login: string): Promise<void> {
    await page.goto(`${s.url}/login`);
    await page.getByRole('button', { name: 'Sign in with SSO' }).click();
    await page.getByLabel('Work email or domain').fill(email);
    await page.getByRole('button', { name: 'Continue to your identity provider' }).click();
    await page.waitForURL((url) => url.origin === provider.issuer);
    await page.locator('input[name="login"]').fill(login);
    await page.locator('input[name="password"]').fill('anything');
    await page.getByRole('button', { name: 'Sign-in' }).click();
    await page.getByRole('button', { name: 'Continue' }).click();
  }

  beforeAll(async () => {
    s = await startConsoleServer('web-sso');
    provider = await startOidcProvider(`${s.url}/auth/oidc/callback`, {
      alice: { email: 'alice@corp.test', email_verified: true, name: 'Alice Martin', groups: ['everyone', 'it-admins'] },
      carol: { email: 'carol@corp.test', email_verified: true, name: 'Carol Diaz', groups: ['everyone', 'it-techs'] },
      bob: { email: 'bob@corp.test', email_verified: true, name: 'Bob Stone', groups: ['everyone'] },
    });
    b = await openBrowser();
    ownerToken = await s.apiLogin(s.owner);
    // Alice already has an account, as a viewer: her groups make her an admin at her next sign-in.
    await s.call(ownerToken, 'users.create', 'mutation', { email: 'alice@corp.test', password: 'a-long-enough-password', role: 'viewer' });
    await s.call(ownerToken, 'sso.save', 'mutation', {
      issuer: provider.issuer, clientId: provider.clientId, clientSecret: provider.clientSecret, emailDomain: 'corp.test', roleClaim: 'groups',
      roleRules: [{ value: 'it-admins', role: 'admin' }, { value: 'it-techs', role: 'technician' }], ssoOnly: false, countsAsTwoFactor: true,
    });
  }, 240_000);
  afterAll(async () => {
    await b?.close().catch(() => undefined);
    await provider?.stop();
    await s?.stop();
  });

  it('keeps the client secret to itself', async () => {
    const answer = await s.call<{ settings: Record<string, unknown> }>(ownerToken, 'sso.settings', 'query');
    expect(answer.settings).toMatchObject({ issuer: provider.issuer, clientId: provider.clientId, emailDomain: 'corp.test' });
    expect(JSON.stringify(answer)).not.toContain(provider.clientSecret);
  });

  it('signs alice in through the provider with the role her groups give', async () => {
    const { page } = await b.person();
    page.on('request', (request) => {
      if (request.url().startsWith(`${s.url}/auth/oidc/callback`)) aliceCallback = request.url();
    });
    await signInWithSso(page, 'alice@corp.test', 'alice');
    await page.getByRole('heading', { name: 'Fleet overview' }).waitFor();
    // An admin's menu: only admins see Users & roles.
    await shown(nav(page, 'Users & roles'));
    expect((await people()).find((person) => person.email === 'alice@corp.test')?.role).toBe('admin');
    expect(aliceCallback).toContain('code=');
    await screenshot(page, 'sso-01-signed-in');
  }, 90_000);

  it('adds someone new with their mapped role, and refuses someone whose groups map to no role', async () => {
    const carol = await b.person();
    await signInWithSso(carol.page, 'carol@corp.test', 'carol');
    await carol.page.getByRole('heading', { name: 'Fleet overview' }).waitFor();
    expect(await nav(carol.page, 'Users & roles').count()).toBe(0);
    expect((await people()).find((person) => person.email === 'carol@corp.test')).toMatchObject({ role: 'technician' });

    const bob = await b.person();
    await signInWithSso(bob.page, 'bob@corp.test', 'bob');
    await bob.page.waitForURL(/\/login\?sso=no_role/);
    await shown(bob.page.getByText('none of your groups gives you a role in NinjaIT'));
    expect((await people()).map((person) => person.email)).not.toContain('bob@corp.test');
    await screenshot(bob.page, 'sso-02-no-role');

    const entries = await s.call<{ action: string; details?: { reason?: string } }[]>(ownerToken, 'audit.list', 'query', { limit: 50 });
    expect(entries.some((entry) => entry.action === 'auth.sso_refused' && entry.details?.reason === 'no_role')).toBe(true);
    expect(entries.some((entry) => entry.action === 'user.create')).toBe(true);
  }, 90_000);

  it('refuses a return from the provider played a second time, even with the state cookie', async () => {
    expect(aliceCallback).not.toBe('');
    const state = new URL(aliceCallback).searchParams.get('state')!;
    const { context, page } = await b.person();
    await context.addCookies([{ name: 'ninjait_oidc_state', value: state, domain: '127.0.0.1', path: '/auth/oidc/callback' }]);
    await page.goto(aliceCallback);
    await page.waitForURL(/\/login\?sso=expired/);
    await shown(page.getByText('expired or was already used'));
    expect((await context.cookies()).some((cookie) => cookie.name === 'ninjait_session' && cookie.value !== '')).toBe(false);
  }, 60_000);

  it('refuses password logins when the organization signs in with SSO only, while the local CLI still works', async () => {
    const settings = await s.call<{ settings: Record<string, unknown> }>(ownerToken, 'sso.settings', 'query');
    const { organizationId: _org, updatedAt: _updated, ...current } = settings.settings;
    await s.call(ownerToken, 'sso.save', 'mutation', { ...current, ssoOnly: true });
    await expect(s.apiLogin(s.owner)).rejects.toThrow(/single sign-on only/);
    // The break-glass: the operator on the server's machine is not a password login.
    expect(await s.cli(['org', 'list'])).toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-/);
    await s.call(ownerToken, 'sso.save', 'mutation', { ...current, ssoOnly: false });
    expect(await s.apiLogin(s.owner)).toMatch(/^ns_/);
  }, 60_000);

  it('left no unexpected errors in the console', () => {
    // The provider's own pages load a web font the test machine cannot reach: only the console's pages count.
    expect(b.unexpectedErrors().filter((error) => error.startsWith(s.url))).toEqual([]);
  });
});
