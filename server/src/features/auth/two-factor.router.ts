import { z } from 'zod';
import { router, userProcedure } from '../../platform/trpc/trpc.ts';
import type { Context } from '../../platform/trpc/context.ts';
import { setSessionCookie } from './session-cookie.ts';
import type { SessionUser, Sessions } from './sessions.ts';
import { setOrganizationRequirement } from './two-factor-repository.ts';
import { createTwoFactor } from './two-factor.ts';
import type { Audit } from '../audit/index.ts';
import type { RelationalStore } from '../../stores/relational/index.ts';

const code = z.object({ code: z.string().trim().min(1).max(32) }).strict();

/**
 * After the second factor is on, the restricted session (organization requires one) becomes a
 * full one: a new token, so the restricted one cannot be replayed. Browsers get it as the cookie.
 */
async function liftRestriction(deps: Pick<TwoFactorRouterDeps, 'sessions'>, ctx: Context & { user: SessionUser; sessionToken: string }): Promise<string | null> {
  if (!ctx.user.restricted) return null;
  const { restricted: _restricted, createdAt: _createdAt, ...user } = ctx.user;
  const sessionToken = await deps.sessions.create({ ...user, ip: ctx.ip });
  await deps.sessions.destroy(ctx.sessionToken, ctx.user.userId);
  setSessionCookie(ctx, sessionToken);
  return ctx.fromBrowser ? null : sessionToken;
}

/** What these procedures use, built in the composition root (app/). */
export interface TwoFactorRouterDeps {
  audit: Audit;
  db: RelationalStore;
  sessions: Sessions;
}

/** A person's own TOTP second factor and recovery codes, and the organization's policy. */
export function createTwoFactorRouter(deps: TwoFactorRouterDeps) {
  return router({
    status: userProcedure().query(({ ctx }) => createTwoFactor(deps.db).status(ctx.user.userId)),
    /** A new secret and its otpauth:// URI for the QR code; nothing changes until `confirm`. */
    begin: userProcedure().mutation(async ({ ctx }) => {
      const started = await createTwoFactor(deps.db).begin(ctx.user.userId, ctx.user.email);
      await deps.audit(ctx, { action: 'auth.two_factor_begin', resourceId: ctx.user.userId });
      return started;
    }),
    /** Turns it on with a code from the new secret; answers the recovery codes (shown once). */
    confirm: userProcedure().input(code).mutation(async ({ ctx, input }) => {
      const { recoveryCodes } = await createTwoFactor(deps.db).confirm(ctx.user.userId, input.code);
      await deps.audit(ctx, { action: 'auth.two_factor_on', resourceId: ctx.user.userId });
      return { recoveryCodes, sessionToken: await liftRestriction(deps, ctx) };
    }),
    regenerateRecoveryCodes: userProcedure().input(code).mutation(async ({ ctx, input }) => {
      const result = await createTwoFactor(deps.db).regenerate(ctx.user.userId, input.code);
      await deps.audit(ctx, { action: 'auth.recovery_codes', resourceId: ctx.user.userId });
      return result;
    }),
    disable: userProcedure().input(code).mutation(async ({ ctx, input }) => {
      await createTwoFactor(deps.db).disable(ctx.user.userId, input.code);
      await deps.audit(ctx, { action: 'auth.two_factor_off', resourceId: ctx.user.userId });
      return { ok: true };
    }),
    /** Admins require a second factor of everyone in their organization (from their next login). */
    setRequired: userProcedure('admin')
      .input(z.object({ required: z.boolean() }).strict())
      .mutation(async ({ ctx, input }) => {
        await setOrganizationRequirement(deps.db, ctx.user.organizationId, input.required);
        await deps.audit(ctx, { action: 'organization.two_factor_policy', resourceId: ctx.user.organizationId, details: { required: input.required } });
        return { ok: true };
      }),
  });
}
