import { z } from 'zod';
import { API_KEY_PREFIX } from '@ninjait/shared';
import { AppError, notFound } from '../../platform/errors.ts';
import { userProcedure } from '../../platform/trpc/trpc.ts';
import { replaceSession, type Sessions } from '../auth/index.ts';
import { enterableOrganizations } from './access.ts';
import type { Audit } from '../audit/index.ts';
import type { RelationalStore } from '../../stores/relational/index.ts';
import type { Logger } from '../../platform/obs/logger.ts';

/** What these procedures use, built in the composition root (app/). */
export interface SwitchDeps {
  audit: Audit;
  db: RelationalStore;
  log: Logger;
  sessions: Sessions;
}

/**
 * The organization switcher, served under `auth.` (app/router.ts). A session has ONE organization
 * at a time, and every other procedure stays scoped to it; switching opens a new session in the
 * target organization with the role held there, and ends the old one (and its open subscriptions,
 * which showed the old organization's data). Changes to roles and memberships end a person's
 * sessions (features/auth/users.router.ts), so a session's role is never staler than its memberships.
 */
export function createSwitchProcedures(deps: SwitchDeps) {
  return {
    /** The organizations the caller may enter, their role in each, and the current one marked. */
    organizations: userProcedure('viewer').query(async ({ ctx }) => {
      const entries = await enterableOrganizations(deps.db, ctx.user.userId);
      return entries.map(({ requireTwoFactor: _rule, ...entry }) => ({ ...entry, current: entry.organizationId === ctx.user.organizationId }));
    }),

    /**
     * Moves the caller's session to another organization they may enter. An organization they may
     * not enter is NOT_FOUND (its existence is not theirs to learn); one whose two-factor rule they
     * do not meet is FORBIDDEN. API keys never switch: a key stays in the organization it was made in.
     */
    switchOrganization: userProcedure('viewer')
      .input(z.object({ organizationId: z.uuid() }).strict())
      .mutation(async ({ ctx, input }) => {
        if (ctx.sessionToken.startsWith(API_KEY_PREFIX)) throw new AppError('FORBIDDEN', 'An API key stays in the organization it was created in');
        if (input.organizationId === ctx.user.organizationId) {
          return { organizationId: ctx.user.organizationId, role: ctx.user.role, switched: false, sessionToken: null };
        }
        const target = (await enterableOrganizations(deps.db, ctx.user.userId)).find((entry) => entry.organizationId === input.organizationId);
        if (!target) throw notFound('Organization');
        if (target.needsSecondFactor) {
          throw new AppError('FORBIDDEN', `${target.name} requires two-factor sign-in: set it up under My account, then switch again`);
        }
        const { userId, email } = ctx.user;
        const sessionToken = await replaceSession(deps.sessions, ctx, { userId, email, role: target.role, organizationId: target.organizationId, ip: ctx.ip });
        await deps.sessions.destroy(ctx.sessionToken, userId);
        // Both organizations' logs say it: the one left, and the one entered (whose people see who came in).
        const details = { from: ctx.user.organizationId, to: target.organizationId, role: target.role, via: target.via };
        await deps.audit(ctx, { action: 'auth.switch_organization', resourceId: target.organizationId, details });
        await deps.audit(ctx, { action: 'auth.switch_organization', organizationId: target.organizationId, resourceId: target.organizationId, details });
        deps.log.info({ userId, from: ctx.user.organizationId, to: target.organizationId, role: target.role }, 'organization switched');
        return { organizationId: target.organizationId, role: target.role, switched: true, sessionToken };
      }),
  };
}
