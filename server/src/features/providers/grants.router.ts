import { z } from 'zod';
import { router, userProcedure } from '../../platform/trpc/trpc.ts';
import { GRANT_ROLES, grantAccess, revokeAccess } from './grants.ts';
import { listGrants } from './grants-repository.ts';
import { isProvider } from './repository.ts';
import { AppError } from '../../platform/errors.ts';

/** The client organization (`organizationId`) and the provider's person (`userId`) a grant joins. */
const grantee = z.object({ organizationId: z.uuid(), userId: z.uuid() });

/** Refuses grant changes from an organization that is not a provider. */
async function assertProvider(ctx: { services: { db: Parameters<typeof isProvider>[0] }; user: { organizationId: string } }): Promise<void> {
  if (!(await isProvider(ctx.services.db, ctx.user.organizationId))) {
    throw new AppError('FORBIDDEN', 'Grants are managed from a provider organization: switch to your provider first');
  }
}

/**
 * Explicit grants: a provider's admins give one of the provider's people a role in one of its
 * clients (stronger than the one their provider role gives there), change it, or take it back.
 * Everything is scoped to the caller's current (provider) organization; another provider's
 * clients and people are NOT_FOUND.
 */
export const grantsRouter = router({
  list: userProcedure('admin')
    .input(z.object({ organizationId: z.uuid().optional() }).strict().default({}))
    .query(async ({ ctx, input }) => {
      if (!(await isProvider(ctx.services.db, ctx.user.organizationId))) return [];
      return listGrants(ctx.services.db, ctx.user.organizationId, { clientId: input.organizationId });
    }),

  /** Gives or changes a grant; the person's sessions end so the new role applies at once. */
  set: userProcedure('admin')
    .input(grantee.extend({ role: z.enum(GRANT_ROLES) }).strict())
    .mutation(async ({ ctx, input }) => {
      await assertProvider(ctx);
      return grantAccess(ctx, ctx.user.organizationId, { clientId: input.organizationId, role: input.role, who: { userId: input.userId } });
    }),

  /** Takes a grant back; the person's open sessions end at once. */
  revoke: userProcedure('admin')
    .input(grantee.strict())
    .mutation(async ({ ctx, input }) => {
      await assertProvider(ctx);
      return revokeAccess(ctx, ctx.user.organizationId, { clientId: input.organizationId, who: { userId: input.userId } });
    }),
});
