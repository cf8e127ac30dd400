import { z } from 'zod';
import { router, userProcedure } from '../../platform/trpc/trpc.ts';
import { GRANT_ROLES, grantAccess, revokeAccess } from './grants.ts';
import { listGrants } from './grants-repository.ts';
import { isProvider } from './repository.ts';
import { AppError } from '../../platform/errors.ts';

const grantee = z.object({ clientId: z.uuid(), userId: z.uuid() });

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
    .input(z.object({ clientId: z.uuid().optional() }).strict().default({}))
    .query(async ({ ctx, input }) => {
      if (!(await isProvider(ctx.services.db, ctx.user.organizationId))) return [];
      return listGrants(ctx.services.db, ctx.user.organizationId, input);
    }),

  /** Gives or changes a grant; the person's sessions end so the new role applies at once. */
  set: userProcedure('admin')
    .input(grantee.extend({ role: z.enum(GRANT_ROLES) }).strict())
    .mutation(async ({ ctx, input }) => {
      await assertProvider(ctx);
      return grantAccess(ctx, ctx.user.organizationId, { clientId: input.clientId, role: input.role, who: { userId: input.userId } });
    }),

  /** Takes a grant back; the person's open sessions end at once. */
  revoke: userProcedure('admin')
    .input(grantee.strict())
    .mutation(async ({ ctx, input }) => {
      await assertProvider(ctx);
      return revokeAccess(ctx, ctx.user.organizationId, { clientId: input.clientId, who: { userId: input.userId } });
    }),
});
