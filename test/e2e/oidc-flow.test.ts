import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOidcProvider, type OidcTestProvider } from '../support/oidc-provider.ts';
import { freePort } from '../support/processes.ts';
import { relationalEngines, startHarness, startSmtpReceiver, type Harness, type SmtpReceiver } from '@ninjait/server/testing';
import { roleFromClaims } from '@ninjait/server/auth/oidc';

const PASSWORD = 'correct horse battery staple';

/** A browser's cookies, per origin, and its redirects followed by hand: enough to walk a provider's forms. */
function cookieJar() {
  const jars = new Map<string, Map<string, string>>();
  return {
    async fetch(url: string, init: RequestInit = {}): Promise<Response> {
      const origin = new URL(url).origin;
      const jar = jars.get(origin) ?? new Map<string, string>();
      jars.set(origin, jar);
      const cookie = [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
      const response = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), ...(cookie ? { cookie } : {}) } });
      for (const line of response.headers.getSetCookie()) {
        const [pair] = line.split(';');
        const at = pair!.indexOf('=');
        jar.set(pair!.slice(0, at), pair!.slice(at + 1));
      }
      return response;
    },
    get: (origin: string, name: string) => jars.get(origin)?.get(name),
  };
}

/**
 * Walks a sign-in without a browser: the console's start route, the provider's login and consent
 * forms (devInteractions), until the provider sends the person back to the callback, which is
 * followed too. Answers where the console finally sent them, and the session cookie.
 */
async function signIn(serverUrl: string, entry: string, login: string): Promise<{ location: string; session: string | undefined; callback: string }> {
  const jar = cookieJar();
  let url = `${serverUrl}/auth/oidc/${encodeURIComponent(entry)}/start`;
  let callback = '';
  let init: RequestInit = {};
  for (let hops = 0; hops < 20; hops += 1) {
    const response = await jar.fetch(url, init);
    init = {};
    if (url.startsWith(`${serverUrl}/auth/oidc/callback`)) callback = url;
    const location = response.headers.get('location');
    if (location) {
      const next = new URL(location, url).toString();
      if (new URL(next).origin === serverUrl && !next.startsWith(`${serverUrl}/auth/oidc/`)) {
        return { location: next.slice(serverUrl.length), session: jar.get(serverUrl, 'ninjait_session'), callback };
      }
      url = next;
      continue;
    }
    const html = await response.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    if (!action) throw new Error(`no form and no redirect at ${url} (${response.status}): ${html.slice(0, 500)}`);
    const fields = new URLSearchParams();
    for (const match of html.matchAll(/<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g)) fields.set(match[1]!, match[2]!);
    if (html.includes('name="login"')) {
      fields.set('login', login);
      fields.set('password', 'anything');
    }
    url = new URL(action, url).toString();
    init = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: fields.toString() };
  }
  throw new Error('too many hops');
}

describe('roleFromClaims', () => {
  const rules = [{ value: 'it-admins', role: 'admin' as const }, { value: 'it-techs', role: 'technician' as const }, { value: 'help', role: 'viewer' as const }];
  it('grants the highest role any value of a list or single claim maps to, and nothing without a match', () => {
    expect(roleFromClaims({ groups: ['help', 'it-admins'] }, 'groups', rules)).toBe('admin');
    expect(roleFromClaims({ role: 'it-techs' }, 'role', rules)).toBe('technician');
    expect(roleFromClaims({ groups: ['IT-ADMINS', 'other'] }, 'groups', rules)).toBeNull();
    expect(roleFromClaims({}, 'groups', rules)).toBeNull();
    expect(roleFromClaims({ groups: [{ value: 'it-admins' }] }, 'groups', rules)).toBeNull();
  });
});

/** Single sign-on and password reset by email on each engine, against a real provider and a real SMTP server, without a browser. */
describe.each(relationalEngines().map((relational) => ({ relational, cache: relational === 'postgres' && process.env.REDIS_URL ? 'redis' as const : 'memory' as const })))(
  'single sign-on and password reset on $relational + $cache',
  ({ relational, cache }) => {
    let h: Harness;
    let smtp: SmtpReceiver;
    let provider: OidcTestProvider;
    let orgId = '';
    let otherOrgId = '';
    const domain = `sso-${relational}.test`;
    const admin = `admin@${domain}`;
    const as = (token: string) => h.http({ authorization: `Bearer ${token}` });
    const login = (email: string, password = PASSWORD) => h.http().auth.login.mutate({ email, password });

    beforeAll(async () => {
      smtp = await startSmtpReceiver();
      // PUBLIC_URL names the redirect URI and the reset links, so the port is chosen first.
      const port = await freePort();
      h = await startHarness({ relational, cache, env: { PORT: String(port), RATE_LIMIT_MAX: '100000', SMTP_URL: smtp.url, PUBLIC_URL: `http://127.0.0.1:${port}` } });
      provider = await startOidcProvider(`${h.server.url}/auth/oidc/callback`, {
        ana: { email: `ana@${domain}`, email_verified: true, groups: ['techs'] },
        ben: { email: `ben@${domain}`, email_verified: true, groups: ['guests'] },
        eve: { email: 'eve@elsewhere.test', email_verified: true, groups: ['techs'] },
        other: { email: `other@${domain}`, email_verified: true, groups: ['techs'] },
      });
      orgId = (await h.admin.admin.organizations.create.mutate({ name: `sso-${relational}` })).id;
      otherOrgId = (await h.admin.admin.organizations.create.mutate({ name: `sso-other-${relational}` })).id;
      await h.admin.admin.users.create.mutate({ org: orgId, email: admin, password: PASSWORD, role: 'admin' });
      await h.admin.admin.users.create.mutate({ org: otherOrgId, email: `other@${domain}`, password: PASSWORD, role: 'admin' });
    }, 120_000);
    afterAll(async () => {
      await h?.stop();
      await provider?.stop();
      await smtp?.stop();
    });

    it('lets only admins set it up, never returns the secret, and keeps an admin from granting more than their role', async () => {
      const adminClient = as((await login(admin)).sessionToken);
      const settings = {
        issuer: provider.issuer, clientId: provider.clientId, clientSecret: provider.clientSecret, emailDomain: domain, roleClaim: 'groups',
        roleRules: [{ value: 'techs', role: 'technician' as const }], ssoOnly: false, countsAsTwoFactor: true,
      };
      await expect(adminClient.sso.save.mutate({ ...settings, roleRules: [{ value: 'x', role: 'owner' }] })).rejects.toThrow(/Only an owner/);
      await expect(adminClient.sso.save.mutate({ ...settings, issuer: 'http://idp.example.com' })).rejects.toThrow(/https/);
      await adminClient.sso.save.mutate(settings);
      const read = await adminClient.sso.settings.query();
      expect(JSON.stringify(read)).not.toContain(provider.clientSecret);
      // Saved again without the secret: the stored one stays.
      await adminClient.sso.save.mutate({ ...settings, clientSecret: undefined });
    });

    it('signs someone new in with the mapped role and refuses the rest with a reason', async () => {
      const ana = await signIn(h.server.url, `ana@${domain}`, 'ana');
      expect(ana.location).toBe('/');
      const me = await as(ana.session!).auth.me.query();
      expect(me).toMatchObject({ email: `ana@${domain}`, role: 'technician', organizationId: orgId });

      expect((await signIn(h.server.url, domain, 'ben')).location).toBe('/login?sso=no_role');
      expect((await signIn(h.server.url, domain, 'eve')).location).toBe('/login?sso=wrong_domain');
      // An email held in another organization is not taken over by this one's provider.
      expect((await signIn(h.server.url, domain, 'other')).location).toBe('/login?sso=other_organization');
      expect((await signIn(h.server.url, 'nobody.test', 'ana')).location).toBe('/login?sso=unknown');
      expect((await as((await login(`other@${domain}`)).sessionToken).auth.me.query()).organizationId).toBe(otherOrgId);
    }, 60_000);

    it('refuses a replayed return, and password logins when SSO only, until turned off', async () => {
      const first = await signIn(h.server.url, domain, 'ana');
      const replay = await fetch(first.callback, { redirect: 'manual', headers: { cookie: `ninjait_oidc_state=${new URL(first.callback).searchParams.get('state')}` } });
      expect(replay.headers.get('location')).toBe('/login?sso=expired');

      const adminClient = as((await login(admin)).sessionToken);
      const { settings } = await adminClient.sso.settings.query();
      const { organizationId: _o, updatedAt: _u, ...current } = settings!;
      await adminClient.sso.save.mutate({ ...current, ssoOnly: true });
      await expect(login(admin)).rejects.toThrow(/single sign-on only/);
      // The break-glass: the local operator's calls are no password login.
      expect((await h.admin.admin.organizations.list.query()).map((org) => org.id)).toContain(orgId);
      await adminClient.sso.remove.mutate();
      expect((await login(admin)).sessionToken).toMatch(/^ns_/);
    }, 60_000);

    it('mails a single-use reset link that ends every session', async () => {
      const before = (await login(admin)).sessionToken;
      await h.http().auth.requestPasswordReset.mutate({ email: admin });
      await h.http().auth.requestPasswordReset.mutate({ email: `nobody@${domain}` });
      const mail = await expect.poll(() => smtp.messages.find((message) => message.to.includes(admin)), { timeout: 20_000 }).toBeDefined()
        .then(() => smtp.messages.find((message) => message.to.includes(admin))!);
      const token = /token=(pr_[A-Za-z0-9_-]{43})/.exec(mail.raw.replace(/=\r?\n/g, '').replace(/=3D/g, '='))![1]!;
      await h.http().auth.resetPassword.mutate({ token, newPassword: 'a brand new password' });
      await expect(as(before).auth.me.query()).rejects.toThrow(/Log in first/);
      await expect(h.http().auth.resetPassword.mutate({ token, newPassword: 'another new password' })).rejects.toThrow(/does not work any more/);
      expect((await login(admin, 'a brand new password')).sessionToken).toMatch(/^ns_/);
      expect(smtp.messages.some((message) => message.to.includes(`nobody@${domain}`))).toBe(false);
    }, 60_000);
  },
);
