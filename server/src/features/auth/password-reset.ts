import type { Env } from '../../platform/config/index.ts';
import type { Logger } from '../../platform/obs/logger.ts';
import { AppError } from '../../platform/errors.ts';
import { mailer } from '../../platform/mail.ts';
import { addressKey } from '../../platform/http/client-address.ts';
import { hashPassword, hashSecret, newSecret } from '../../platform/secrets.ts';
import type { RelationalStore } from '../../stores/relational/index.ts';
import type { Audit } from '../audit/index.ts';
import { withPasswordGate } from './login.ts';
import { requiresSso } from './oidc-repository.ts';
import type { RateLimiter } from './rate-limit.ts';
import type { Sessions } from './sessions.ts';
import { findLoginAccount } from './users.ts';
import { deleteExpiredPasswordResets, insertPasswordReset, resetPasswordHash, spendOtherPasswordResets, spendPasswordReset } from './users-repository.ts';

/** How long an emailed link works. */
export const RESET_TTL_MIN = 30;
/** Requests per address, and per email, in one rate window: enough for a typo or two, not for mail bombing. */
const REQUESTS_PER_ADDRESS = 10;
const REQUESTS_PER_EMAIL = 3;
const SEND_TIMEOUT_MS = 10_000;
const TOKEN_PREFIX = 'pr_';
/** The console page the link opens. */
export const RESET_PAGE = '/reset-password';
export const RESET_LINK_INVALID = 'This reset link does not work any more (used, expired or mistyped): ask for a new one on the login page';

export interface PasswordResetServices {
  audit: Audit;
  env: Pick<Env, 'PUBLIC_URL' | 'SMTP_URL' | 'SMTP_FROM'>;
  log: Logger;
  db: RelationalStore;
  sessions: Pick<Sessions, 'destroyAllFor'>;
  rateLimit: RateLimiter;
}

/** The link's token has the shape `newSecret` gives it; anything else is refused before any lookup. */
export const RESET_TOKEN = /^pr_[A-Za-z0-9_-]{43}$/;

/** Looks the person up, keeps the token's hash and mails the link; runs after the caller has its answer. */
async function sendLink(services: PasswordResetServices, ip: string | null, email: string): Promise<void> {
  const { env, log, db } = services;
  const account = await findLoginAccount(db, email);
  if (!account) return log.info('password reset asked for an email nobody has');
  if (await requiresSso(db, account.organizationId)) return log.info({ userId: account.id }, 'password reset not sent: the organization signs in with SSO only');
  if (!env.SMTP_URL || !env.PUBLIC_URL) {
    return log.warn({ userId: account.id }, 'password reset not sent: set SMTP_URL and PUBLIC_URL on the server to mail reset links');
  }
  const token = newSecret(TOKEN_PREFIX);
  await deleteExpiredPasswordResets(db);
  await insertPasswordReset(db, { tokenHash: hashSecret(token), userId: account.id, expiresAt: new Date(Date.now() + RESET_TTL_MIN * 60_000) });
  const link = `${env.PUBLIC_URL.replace(/\/+$/, '')}${RESET_PAGE}#token=${token}`;
  await mailer(env.SMTP_URL, SEND_TIMEOUT_MS).sendMail({
    from: env.SMTP_FROM, to: email, subject: 'Reset your NinjaIT password',
    text: `Someone (hopefully you) asked to reset the password of ${email} on NinjaIT.\n\n`
      + `Open this link within ${RESET_TTL_MIN} minutes to choose a new password:\n${link}\n\n`
      + 'The link works once. If you did not ask for it, ignore this message: your password stays as it is.\n',
  });
  await services.audit({ ip, user: { userId: account.id, organizationId: account.organizationId } }, { action: 'auth.password_reset_requested', resourceId: account.id });
}

/**
 * Asks for a reset link. The answer is the same, and comes as fast, whether the email has an
 * account or not: the lookup and the mail happen after it. Limited per address and per email.
 */
export async function requestPasswordReset(services: PasswordResetServices, ip: string | null, email: string): Promise<void> {
  const normalized = email.trim().toLowerCase();
  const [byAddress, byEmail] = await Promise.all([
    services.rateLimit(`ip:${addressKey(ip)}`, 'auth.requestPasswordReset', REQUESTS_PER_ADDRESS),
    services.rateLimit(`email:${hashSecret(normalized)}`, 'auth.requestPasswordReset', REQUESTS_PER_EMAIL),
  ]);
  const verdict = !byAddress.allowed ? byAddress : byEmail;
  if (!verdict.allowed) throw new AppError('TOO_MANY_REQUESTS', `Too many reset requests; try again in ${verdict.resetInSec} s`);
  setImmediate(() => {
    sendLink(services, ip, normalized).catch((error: unknown) => services.log.error({ err: error }, 'password reset link not sent'));
  });
}

/**
 * Sets a new password with an emailed token: spent once (every other link of that person with it),
 * refused when expired; every session of the person ends. Answers who it was, for the audit.
 */
export async function resetPassword(services: PasswordResetServices, ip: string | null, token: string, newPassword: string): Promise<void> {
  if (!RESET_TOKEN.test(token)) throw new AppError('BAD_REQUEST', RESET_LINK_INVALID);
  const passwordHash = await withPasswordGate(ip, () => hashPassword(newPassword));
  const person = await services.db.transaction(async (tx) => {
    const userId = await spendPasswordReset(tx, hashSecret(token));
    if (!userId) return null;
    await spendOtherPasswordResets(tx, userId);
    return resetPasswordHash(tx, userId, passwordHash);
  });
  if (!person || !person.organizationId) throw new AppError('BAD_REQUEST', RESET_LINK_INVALID);
  await services.sessions.destroyAllFor(person.id);
  await services.audit({ ip, user: { userId: person.id, organizationId: person.organizationId } }, { action: 'auth.password_reset', resourceId: person.id });
}
