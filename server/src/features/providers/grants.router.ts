import { z } from 'zod';
import { router, userProcedure } from '../../platform/trpc/trpc.ts';
import { GRANT_ROLES, grantAccess, revokeAccess, type GrantDeps } from './grants.ts';
import { listGrants } from './grants-repository.ts';
import { isProvider } from './repository.ts';
import type { RelationalStore } from '../../stores/relational/index.ts';

/** The client organization (`organizationId`) and the provider's person (`userId`) a grant joins. */
const grantee = z.object({ organizationId: z.uuid(), userId: z.uuid() });

/** What these procedures use, built in the composition root (app/). */
export interface GrantsRouterDeps extends GrantDeps {
  db: RelationalStore;
}

/**
 * Explicit grants: a provider's admins give one of the provider's people a role in one of its
 * clients (stronger than the one their provider role gives there), change it, or take it back.
 * Everything is scoped to the caller's current (provider) organization: a client that is not one
 * of its clients, or a person who is not one of its people, is NOT_FOUND (from an organization
 * that is not a provider, every client is).
 */
export function createGrantsRouter(deps: GrantsRouterDeps) {
  return router({
    list: userProcedure('admin')
      .input(z.object({ organizationId: z.uuid().optional() }).strict().default({}))
      .query(async ({ ctx, input }) => {
        if (!(await isProvider(deps.db, ctx.user.organizationId))) return [];
        return listGrants(deps.db, ctx.user.organizationId, { clientId: input.organizationId });
      }),

    /** Gives or changes a grant; the person's sessions end so the new role applies at once. */
    set: userProcedure('admin')
      .input(grantee.extend({ role: z.enum(GRANT_ROLES) }).strict())
      .mutation(async ({ ctx, input }) => {
        return grantAccess(deps, ctx, ctx.user.organizationId, { clientId: input.organizationId, role: input.role, who: { userId: input.userId } });
      }),

    /** Takes a grant back; the person's open sessions end at once. */
    revoke: userProcedure('admin')
      .input(grantee.strict())
      .mutation(async ({ ctx, input }) => {
        return revokeAccess(deps, ctx, ctx.user.organizationId, { clientId: input.organizationId, who: { userId: input.userId } });
      }),
  });
}
