import { randomBytes } from 'node:crypto';
import * as client from 'openid-client';
import { isUuid, ROLES, type Role } from '@ninjait/shared';
import { hashPassword, hashSecret } from '../../platform/secrets.ts';
import type { RelationalStore } from '../../stores/relational/index.ts';
import type { SecretBox } from '../../platform/secret-box.ts';
import {
  personByEmail, savePendingSignIn, ssoSettingsForSignIn, takePendingSignIn, type RoleRule, type SsoSettingsWithSecret,
} from './oidc-repository.ts';
import { findUser, insertUser, setRole, type User } from './users.ts';

/** How long a person may stay at their provider's sign-in page before the attempt expires. */
export const SIGN_IN_TTL_SEC = 10 * 60;
/** Where providers send people back; register `<PUBLIC_URL>/auth/oidc/callback` with the provider. */
export const CALLBACK_PATH = '/auth/oidc/callback';
/** What we ask the provider for: who the person is, their email, and the claims roles are mapped from. */
export const SCOPES = 'openid email profile';
const PROVIDER_TIMEOUT_SEC = 10;

/**
 * Why a single sign-on was refused. The login page shows a sentence per reason (web/src/pages/Login.tsx);
 * the reason travels in the URL, never the sentence, so nobody can make the page say something else.
 */
export type SsoRefusalReason =
  | 'unknown' | 'expired' | 'provider' | 'no_email' | 'wrong_domain' | 'no_role' | 'other_organization' | 'removed' | 'second_factor';

export class SsoRefusal extends Error {
  constructor(readonly reason: SsoRefusalReason, detail: string) {
    super(detail);
  }
}

/**
 * The highest role any rule grants: the claim equals the rule's value, or (a list claim such as
 * `groups`) contains it. Null when nothing matches: such people are refused, not given a default.
 */
export function roleFromClaims(claims: Record<string, unknown>, claim: string, rules: readonly RoleRule[]): Role | null {
  const raw = claims[claim];
  const values = new Set((Array.isArray(raw) ? raw : [raw]).filter((item): item is string | number => typeof item === 'string' || typeof item === 'number').map(String));
  let best: Role | null = null;
  for (const rule of rules) {
    if (values.has(rule.value) && (best === null || ROLES.indexOf(rule.role) > ROLES.indexOf(best))) best = rule.role;
  }
  return best;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Plain http is accepted only for a provider on this machine (tests, a local Keycloak); anything else needs https. */
export function issuerAllowed(issuer: string): boolean {
  const url = new URL(issuer);
  return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname));
}

/** The provider's configuration (discovery document), fetched per sign-in: providers rotate keys and endpoints. */
async function providerConfig(settings: SsoSettingsWithSecret): Promise<client.Configuration> {
  const issuer = new URL(settings.issuer);
  return client.discovery(issuer, settings.clientId, settings.clientSecret, undefined, {
    timeout: PROVIDER_TIMEOUT_SEC,
    ...(issuer.protocol === 'http:' && issuerAllowed(settings.issuer) ? { execute: [client.allowInsecureRequests] } : {}),
  });
}

/**
 * The organization a login page's entry names: its id, or a work email / email domain its admins
 * set up. Null when none has single sign-on.
 */
export async function findSsoOrganization(db: RelationalStore, box: SecretBox, entry: string): Promise<SsoSettingsWithSecret | null> {
  const value = entry.trim().toLowerCase();
  if (isUuid(value)) return ssoSettingsForSignIn(db, box, { organizationId: value });
  const domain = value.includes('@') ? value.slice(value.lastIndexOf('@') + 1) : value;
  if (!/^[a-z0-9.-]{1,253}$/.test(domain)) return null;
  return ssoSettingsForSignIn(db, box, { emailDomain: domain });
}

/**
 * Starts a sign-in: state, nonce and PKCE verifier are kept on the server (state as its hash) for
 * SIGN_IN_TTL_SEC; the browser gets the provider's URL and the state, which it must bring back
 * in a cookie (see oidc-routes.ts) so a sign-in started in one browser cannot finish in another.
 */
export async function beginSignIn(db: RelationalStore, settings: SsoSettingsWithSecret, redirectUri: string): Promise<{ url: URL; state: string }> {
  const config = await providerConfig(settings).catch((error: unknown) => {
    throw new SsoRefusal('provider', `discovery at ${settings.issuer} failed: ${(error as Error).message}`);
  });
  const state = client.randomState();
  const nonce = client.randomNonce();
  const codeVerifier = client.randomPKCECodeVerifier();
  await savePendingSignIn(db, {
    stateHash: hashSecret(state), organizationId: settings.organizationId, nonce, codeVerifier, expiresAt: new Date(Date.now() + SIGN_IN_TTL_SEC * 1000),
  });
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri, scope: SCOPES, state, nonce,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier), code_challenge_method: 'S256',
  });
  return { url, state };
}

/** What a verified return from the provider says about the person. */
export interface SignedInClaims {
  settings: SsoSettingsWithSecret;
  claims: Record<string, unknown>;
}

/**
 * Finishes a sign-in: the state must be one we issued, unused, unexpired, and the one this browser
 * started (`browserState`); the code is exchanged with the PKCE verifier and the ID token's
 * signature, issuer, audience and nonce are checked by openid-client.
 */
export async function completeSignIn(db: RelationalStore, box: SecretBox, callbackUrl: URL, browserState: string | undefined): Promise<SignedInClaims> {
  const state = callbackUrl.searchParams.get('state') ?? '';
  if (!state || state.length > 256) throw new SsoRefusal('expired', 'the return from the provider carries no state');
  if (browserState !== state) throw new SsoRefusal('expired', 'the state is not the one this browser started');
  const pending = await takePendingSignIn(db, hashSecret(state));
  if (!pending) throw new SsoRefusal('expired', 'unknown, used or expired state');
  const settings = await ssoSettingsForSignIn(db, box, { organizationId: pending.organizationId });
  if (!settings) throw new SsoRefusal('unknown', 'single sign-on was turned off meanwhile');
  try {
    const config = await providerConfig(settings);
    const tokens = await client.authorizationCodeGrant(config, callbackUrl, {
      pkceCodeVerifier: pending.codeVerifier, expectedState: state, expectedNonce: pending.nonce, idTokenExpected: true,
    });
    const idClaims: Record<string, unknown> = tokens.claims() ?? {};
    // Providers put groups in the ID token or only in userinfo (Okta's default): read both.
    const userInfo = tokens.access_token
      ? await client.fetchUserInfo(config, tokens.access_token, String(idClaims.sub)).catch(() => ({}))
      : {};
    return { settings, claims: { ...userInfo, ...idClaims } };
  } catch (error) {
    throw new SsoRefusal('provider', (error as Error).message);
  }
}

/**
 * A password nobody knows: people created by single sign-on sign in through it (or reset by email).
 * A real scrypt hash, so a password login against such an account costs what any other does.
 */
const unknowablePasswordHash = () => hashPassword(randomBytes(32).toString('base64url'));

/**
 * The person the claims name, in the organization whose provider answered: created with the mapped
 * role when new (just in time), given the mapped role when it changed (owners are left as they are:
 * only another owner changes an owner). Refused when the email is missing, unverified, outside the
 * organization's domain, held in another organization or removed, or when no rule grants a role.
 */
export async function personForClaims(db: RelationalStore, signedIn: SignedInClaims): Promise<{ user: User; created: boolean; roleChanged: boolean }> {
  const { settings, claims } = signedIn;
  const email = typeof claims.email === 'string' ? claims.email.trim().toLowerCase() : '';
  if (!email || email.length > 255 || claims.email_verified === false) throw new SsoRefusal('no_email', 'the provider sent no verified email');
  if (settings.emailDomain && !email.endsWith(`@${settings.emailDomain}`)) throw new SsoRefusal('wrong_domain', `${email} is outside ${settings.emailDomain}`);
  const role = roleFromClaims(claims, settings.roleClaim, settings.roleRules);
  if (!role) throw new SsoRefusal('no_role', `no rule maps the ${settings.roleClaim} claim of ${email} to a role`);
  const existing = await personByEmail(db, email);
  const name = typeof claims.name === 'string' ? claims.name.slice(0, 255) : undefined;
  if (!existing) {
    const user = await insertUser(db, { email, role, organizationId: settings.organizationId, name, passwordHash: await unknowablePasswordHash() });
    return { user, created: true, roleChanged: false };
  }
  if (existing.organizationId !== settings.organizationId) throw new SsoRefusal('other_organization', `${email} belongs to another organization`);
  if (existing.removedAt) throw new SsoRefusal('removed', `${email} was removed from the organization`);
  const keep = existing.role === role || existing.role === 'owner';
  const user = keep ? await findUser(db, settings.organizationId, existing.id) : await setRole(db, settings.organizationId, existing.id, role, () => undefined);
  return { user, created: false, roleChanged: !keep };
}
