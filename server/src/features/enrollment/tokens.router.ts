import { z } from 'zod';
import { createEnrollmentToken, listEnrollmentTokens, revokeEnrollmentToken } from './enrollment-tokens.ts';
import { router, userProcedure } from '../../platform/trpc/trpc.ts';
import { audit } from '../audit/index.ts';

const DAY_SEC = 24 * 60 * 60;
/** The longest an enrollment token may live, however it is made (here, an install link, the CLI). */
export const TOKEN_MAX_LIFETIME_SEC = 365 * DAY_SEC;

export const newTokenSchema = z.object({
  name: z.string().min(1).max(255).default('Enrollment token'),
  expiresInSec: z.number().int().min(60).max(TOKEN_MAX_LIFETIME_SEC).default(7 * DAY_SEC),
  maxUses: z.number().int().min(1).max(100_000).default(1),
}).strict();

export const tokensRouter = router({
  create: userProcedure('admin')
    .input(newTokenSchema)
    .mutation(async ({ ctx, input }) => {
      const created = await createEnrollmentToken(ctx.services.db, { ...input, organizationId: ctx.user.organizationId, createdBy: ctx.user.userId });
      await audit(ctx, { action: 'token.create', resourceId: created.record.id, details: { name: input.name, maxUses: input.maxUses, expiresAt: created.record.expiresAt } });
      return created;
    }),
  list: userProcedure('admin').query(({ ctx }) => listEnrollmentTokens(ctx.services.db, ctx.user.organizationId)),
  revoke: userProcedure('admin')
    .input(z.object({ id: z.uuid() }).strict())
    .mutation(async ({ ctx, input }) => {
      const revoked = await revokeEnrollmentToken(ctx.services.db, ctx.user.organizationId, input.id);
      await audit(ctx, { action: 'token.revoke', resourceId: revoked.id, details: { name: revoked.name } });
      return revoked;
    }),
});
