import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse, serialize } from 'cookie';
import type { Env } from '../../platform/config/index.ts';
import type { Logger } from '../../platform/obs/logger.ts';
import { addressKey, clientIp } from '../../platform/http/client-address.ts';
import { decodePathPart, requestTarget } from '../../platform/http/request-target.ts';
import type { RelationalStore } from '../../stores/relational/index.ts';
import type { Audit } from '../audit/index.ts';
import type { SecretBox } from '../../platform/secret-box.ts';
import { beginSignIn, CALLBACK_PATH, completeSignIn, findSsoOrganization, personForClaims, SIGN_IN_TTL_SEC, SsoRefusal, type SsoRefusalReason } from './oidc.ts';
import type { RateLimiter } from './rate-limit.ts';
import { setSessionCookie } from './session-cookie.ts';
import type { Sessions } from './sessions.ts';
import { createTwoFactor } from './two-factor.ts';

/** What the sign-in routes use of the server's services. */
export interface OidcRouteServices {
  audit: Audit;
  env: Pick<Env, 'PUBLIC_URL'>;
  log: Logger;
  db: RelationalStore;
  /** Opens the stored client secrets. */
  secretBox: SecretBox;
  sessions: Sessions;
  rateLimit: RateLimiter;
}

/**
 * Binds a sign-in to the browser that started it. SameSite=Lax, not Strict: the provider sends the
 * person back with a cross-site navigation, which must carry it. Only the callback path sees it.
 */
const STATE_COOKIE = 'ninjait_oidc_state';
/** Sign-ins one address may start per rate window: each costs a discovery request to the provider and a row. */
const STARTS_PER_WINDOW = 30;
const START_PATH = /^\/auth\/oidc\/([^/]{1,300})\/start$/;

const isHttps = (req: IncomingMessage) => (req.socket as { encrypted?: boolean }).encrypted === true;

/** PUBLIC_URL when set (behind a proxy); else the address the browser used. The provider checks the redirect URI against its registration. */
function redirectUri(env: Pick<Env, 'PUBLIC_URL'>, req: IncomingMessage): string | null {
  const base = env.PUBLIC_URL?.replace(/\/+$/, '') ?? `${isHttps(req) ? 'https' : 'http'}://${req.headers.host ?? ''}`;
  try {
    return new URL(CALLBACK_PATH, `${base}/`).toString();
  } catch {
    return null;
  }
}

function redirect(res: ServerResponse, location: string, cookies: string[] = []): void {
  if (cookies.length > 0) res.appendHeader('set-cookie', cookies);
  res.writeHead(302, { location, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' });
  res.end();
}

/** Back to the login page with the reason; the page words it. */
const refused = (res: ServerResponse, reason: SsoRefusalReason, cookies: string[] = []) => redirect(res, `/login?sso=${reason}`, cookies);

/**
 * Single sign-on's two HTTP routes. `/auth/oidc/:org/start` (`:org` is a work email, an email
 * domain or an organization id) sends the browser to the organization's provider;
 * `/auth/oidc/callback` takes it back, checks everything, finds or creates the person and opens a
 * session exactly as a password login does (the same cookie, the same second-factor policy).
 * Every sign-in and every refusal is audited.
 */
export function oidcRoutes(services: OidcRouteServices) {
  const { log } = services;

  async function start(req: IncomingMessage, res: ServerResponse, entry: string): Promise<void> {
    const ip = clientIp(req);
    const verdict = await services.rateLimit(`ip:${addressKey(ip)}`, 'auth.oidc.start', STARTS_PER_WINDOW);
    if (!verdict.allowed) return refused(res, 'provider');
    const settings = await findSsoOrganization(services.db, services.secretBox, entry);
    const uri = redirectUri(services.env, req);
    if (!settings || !uri) return refused(res, 'unknown');
    try {
      const { url, state } = await beginSignIn(services.db, settings, uri);
      const cookie = serialize(STATE_COOKIE, state, { httpOnly: true, sameSite: 'lax', path: CALLBACK_PATH, maxAge: SIGN_IN_TTL_SEC, secure: isHttps(req) });
      redirect(res, url.toString(), [cookie]);
    } catch (error) {
      if (!(error instanceof SsoRefusal)) throw error;
      log.warn({ organizationId: settings.organizationId, reason: error.reason, err: error.message }, 'single sign-on could not start');
      await services.audit({ ip }, { action: 'auth.sso_refused', organizationId: settings.organizationId, details: { reason: error.reason, detail: error.message } });
      refused(res, error.reason);
    }
  }

  async function callback(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const ip = clientIp(req);
    const clearState = serialize(STATE_COOKIE, '', { httpOnly: true, sameSite: 'lax', path: CALLBACK_PATH, maxAge: 0, secure: isHttps(req) });
    const uri = redirectUri(services.env, req);
    const browserState = parse(req.headers.cookie ?? '')[STATE_COOKIE];
    let organizationId: string | undefined;
    try {
      if (!uri) throw new SsoRefusal('unknown', 'no address to compare the return with');
      // The URL the provider redirected to: our redirect URI plus its query.
      const callbackUrl = new URL(uri);
      callbackUrl.search = requestTarget(req).query.toString();
      const signedIn = await completeSignIn(services.db, services.secretBox, callbackUrl, browserState);
      organizationId = signedIn.settings.organizationId;
      const { user, created, roleChanged } = await personForClaims(services.db, signedIn);
      // As when an admin changes a role: sessions opened with the old one end.
      if (roleChanged) await services.sessions.destroyAllFor(user.id);
      const need = await createTwoFactor(services.db).need(user.id);
      // The provider's sign-in counts as the second factor only when the organization says it does
      // (its provider enforces MFA). Otherwise: no factor yet and one required → a session that can
      // only set it up, as after a password; a factor set up → the password login, which asks for it.
      if (!signedIn.settings.countsAsTwoFactor && need === 'code') throw new SsoRefusal('second_factor', `${user.email} has a second factor and SSO does not count as one`);
      const restricted = !signedIn.settings.countsAsTwoFactor && need === 'setup';
      const sessionToken = await services.sessions.create({
        userId: user.id, email: user.email, role: user.role, organizationId: user.organizationId, ip, ...(restricted ? { restricted: 'two_factor_setup' as const } : {}),
      });
      const cookies: string[] = [clearState];
      setSessionCookie({ setCookie: (cookie) => cookies.push(cookie), secure: isHttps(req) }, sessionToken);
      const who = { ip, user: { userId: user.id, organizationId: user.organizationId } };
      if (created) await services.audit(who, { action: 'user.create', resourceId: user.id, details: { email: user.email, role: user.role, via: 'sso' } });
      if (roleChanged) await services.audit(who, { action: 'user.update', resourceId: user.id, details: { role: user.role, via: 'sso' } });
      await services.audit(who, { action: 'auth.login', resourceId: user.id, details: { via: 'sso' } });
      log.info({ userId: user.id, organizationId: user.organizationId, created }, 'single sign-on');
      redirect(res, '/', cookies);
    } catch (error) {
      if (!(error instanceof SsoRefusal)) throw error;
      log.warn({ organizationId, reason: error.reason, err: error.message }, 'single sign-on refused');
      await services.audit({ ip }, { action: 'auth.sso_refused', ...(organizationId ? { organizationId } : {}), details: { reason: error.reason, detail: error.message } });
      refused(res, error.reason, [clearState]);
    }
  }

  /** An extra route of the HTTP server: true when the request was one of ours. */
  return function handle(req: IncomingMessage, res: ServerResponse): boolean {
    const { path } = requestTarget(req);
    const match = START_PATH.exec(path);
    if (!match && path !== CALLBACK_PATH) return false;
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET' }).end();
      return true;
    }
    const entry = match ? decodePathPart(match[1]!) : null;
    const work = match ? (entry ? start(req, res, entry) : Promise.resolve(refused(res, 'unknown'))) : callback(req, res);
    work.catch((error: unknown) => {
      log.error({ err: error }, 'single sign-on failed');
      if (!res.headersSent) refused(res, 'provider');
    });
    return true;
  };
}
