import { z } from 'zod';
import { AppError } from '../../platform/errors.ts';
import { checkLogin } from './login.ts';
import type { SessionUser, Sessions } from './sessions.ts';
import { organizationName, runsInstall } from '../organizations/index.ts';
import type { Context } from '../../platform/trpc/context.ts';
import { clearSessionCookie, setSessionCookie } from './session-cookie.ts';
import { publicProcedure, router, userProcedure } from '../../platform/trpc/trpc.ts';
import { createTwoFactor } from './two-factor.ts';
import { requiresSso } from './oidc-repository.ts';
import { requestPasswordReset, resetPassword, type PasswordResetServices } from './password-reset.ts';
import type { FailedLoginDeps } from './failed-login-audit.ts';
import { password as newPassword } from './users.router.ts';
import type { Audit } from '../audit/index.ts';
import type { RelationalStore } from '../../stores/relational/index.ts';
import type { RateLimiter } from './rate-limit.ts';

/** Password logins refused where the organization signs in through its provider only; the local CLI is the break-glass. */
export const SSO_ONLY = 'Your organization signs in with single sign-on only: use "Sign in with SSO"';

const credentialsSchema = z.object({
  email: z.email().max(255),
  password: z.string().min(1).max(1024),
  /** The second step, for accounts with two-factor sign-in: a 6-digit code or a recovery code. */
  code: z.string().trim().min(1).max(32).optional(),
}).strict();

/** Checks the credentials (throttled, queued, failures audited), opens a session and sets the cookie when it can. */
async function openSession(deps: AuthRouterDeps, ctx: Context, input: z.infer<typeof credentialsSchema>) {
  const twoFactor = createTwoFactor(deps.db);
  const user = await checkLogin(deps, { ip: ctx.ip, email: input.email, password: input.password }, undefined, (found) => twoFactor.verifyLogin(found.id, input.code));
  // Checked after the password, so the answer tells nobody without it how the organization signs in.
  if (await requiresSso(deps.db, user.organizationId)) {
    await deps.audit(ctx, { action: 'auth.login_refused', resourceId: user.id, userId: user.id, organizationId: user.organizationId, details: { reason: 'sso_only' } });
    throw new AppError('FORBIDDEN', SSO_ONLY);
  }
  // Organization requires a second factor and this person has none yet: a session that can only set one up.
  const restricted = (await twoFactor.need(user.id)) === 'setup' ? 'two_factor_setup' as const : undefined;
  const sessionToken = await deps.sessions.create({
    userId: user.id, email: user.email, role: user.role, organizationId: user.organizationId, ip: ctx.ip, ...(restricted ? { restricted } : {}),
  });
  setSessionCookie(ctx, sessionToken);
  await deps.audit(ctx, { action: 'auth.login', resourceId: user.id, userId: user.id, organizationId: user.organizationId });
  return { sessionToken, user };
}

/**
 * Who is signed in, for the console's header, menu and pages: the session, the organization's name,
 * and whether that organization runs this server (its owners manage organizations, its admins see
 * the server's health; see features/organizations/organizations.ts installOrganizationId).
 */
async function describe(deps: AuthRouterDeps, ctx: Context, user: SessionUser) {
  const [name, operator] = await Promise.all([organizationName(deps.db, user.organizationId), runsInstall(deps.db, user.organizationId)]);
  return { ...user, organizationName: name, runsServer: operator };
}

/** What these procedures use, built in the composition root (app/). */
export interface AuthRouterDeps extends FailedLoginDeps, PasswordResetServices {
  audit: Audit;
  db: RelationalStore;
  rateLimit: RateLimiter;
  sessions: Sessions;
}

/**
 * Two ways in, because a browser must never hold the token where its scripts can read it:
 * `login` answers with the token, for programs (CLI, integrations, tests) that send it back as
 * `Authorization: Bearer`; `cookieLogin` sets the HttpOnly cookie and answers without it, for the
 * console. `login` refuses browsers (requests with `Origin` or `Sec-Fetch-Site`, which page scripts
 * cannot remove), so injected script cannot obtain a token the cookie would have hidden.
 */
export function createAuthRouter(deps: AuthRouterDeps) {
  return router({
  login: publicProcedure
    .input(credentialsSchema)
    .mutation(({ ctx, input }) => {
      if (ctx.fromBrowser) {
        throw new AppError('BAD_REQUEST', 'Browsers log in with auth.cookieLogin: the session then stays in an HttpOnly cookie that page scripts cannot read');
      }
      return openSession(deps, ctx, input);
    }),
  cookieLogin: publicProcedure
    .input(credentialsSchema)
    .mutation(async ({ ctx, input }) => {
      if (!ctx.setCookie) throw new AppError('BAD_REQUEST', 'auth.cookieLogin sets a cookie, which only an HTTP request can receive: use auth.login');
      const { user } = await openSession(deps, ctx, input);
      return { user };
    }),
  logout: userProcedure().mutation(async ({ ctx }) => {
    await deps.sessions.destroy(ctx.sessionToken, ctx.user.userId);
    clearSessionCookie(ctx);
    await deps.audit(ctx, { action: 'auth.logout', resourceId: ctx.user.userId });
    return { ok: true };
  }),
  /** The caller's live sessions (where and when each was opened), their own marked. */
  sessions: userProcedure().query(({ ctx }) => deps.sessions.list(ctx.user.userId, ctx.sessionToken)),
  /** Ends one of the caller's sessions (a browser left signed in elsewhere); NOT_FOUND for any other id. */
  revokeSession: userProcedure()
    .input(z.object({ session: z.string().regex(/^[0-9a-f]{16}$/) }).strict())
    .mutation(async ({ ctx, input }) => {
      if (!(await deps.sessions.destroyById(ctx.user.userId, input.session))) throw new AppError('NOT_FOUND', 'Session not found');
      await deps.audit(ctx, { action: 'auth.session_revoke', resourceId: ctx.user.userId });
      return { ok: true };
    }),
  /**
   * Mails a single-use reset link (features/auth/password-reset.ts). The same answer, as fast,
   * for any email: whether someone has it is never told.
   */
  requestPasswordReset: publicProcedure
    .input(z.object({ email: z.email().max(255) }).strict())
    .mutation(async ({ ctx, input }) => {
      await requestPasswordReset(deps, ctx.ip, input.email);
      return { ok: true };
    }),
  /** Sets a new password with the emailed link's token; every session of that person ends. */
  resetPassword: publicProcedure
    .input(z.object({ token: z.string().min(1).max(128), newPassword }).strict())
    .mutation(async ({ ctx, input }) => {
      await resetPassword(deps, ctx.ip, input.token, input.newPassword);
      return { ok: true };
    }),
  /** The caller and their organization, for the console's header and switcher. */
  me: userProcedure().query(({ ctx }) => describe(deps, ctx, ctx.user)),
  /**
   * The same as `me` when the request carries a live session, null when it does not: how a
   * console tab that just opened learns whether its cookie still signs it in, without an error
   * for the signed-out case. It says nothing about any session but the caller's own.
   */
  session: publicProcedure.query(async ({ ctx, path }) => {
    const user = ctx.sessionToken ? await deps.sessions.get(ctx.sessionToken) : null;
    if (!user) return null;
    const verdict = await deps.rateLimit(user.userId, path, 'read');
    if (!verdict.allowed) throw new AppError('TOO_MANY_REQUESTS', `Rate limit reached for ${path}; try again in ${verdict.resetInSec} s`);
    return describe(deps, ctx, user);
  }),
});
}
