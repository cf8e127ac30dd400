import { z } from 'zod';
import { createEnrollmentToken, listEnrollmentTokens, revokeEnrollmentToken } from './enrollment-tokens.ts';
import { router, userProcedure } from '../../platform/trpc/trpc.ts';
import type { Audit } from '../audit/index.ts';
import type { RelationalStore } from '../../stores/relational/index.ts';

const DAY_SEC = 24 * 60 * 60;
/** The longest an enrollment token may live, however it is made (here, an install link, the CLI). */
export const TOKEN_MAX_LIFETIME_SEC = 365 * DAY_SEC;

export const newTokenSchema = z.object({
  name: z.string().min(1).max(255).default('Enrollment token'),
  expiresInSec: z.number().int().min(60).max(TOKEN_MAX_LIFETIME_SEC).default(7 * DAY_SEC),
  maxUses: z.number().int().min(1).max(100_000).default(1),
}).strict();

/** What these procedures use, built in the composition root (app/). */
export interface TokensRouterDeps {
  audit: Audit;
  db: RelationalStore;
}

export function createTokensRouter(deps: TokensRouterDeps) {
  return router({
    create: userProcedure('admin')
      .input(newTokenSchema)
      .mutation(async ({ ctx, input }) => {
        const created = await createEnrollmentToken(deps.db, { ...input, organizationId: ctx.user.organizationId, createdBy: ctx.user.userId });
        await deps.audit(ctx, { action: 'token.create', resourceId: created.record.id, details: { name: input.name, maxUses: input.maxUses, expiresAt: created.record.expiresAt } });
        return created;
      }),
    list: userProcedure('admin').query(({ ctx }) => listEnrollmentTokens(deps.db, ctx.user.organizationId)),
    revoke: userProcedure('admin')
      .input(z.object({ id: z.uuid() }).strict())
      .mutation(async ({ ctx, input }) => {
        const revoked = await revokeEnrollmentToken(deps.db, ctx.user.organizationId, input.id);
        await deps.audit(ctx, { action: 'token.revoke', resourceId: revoked.id, details: { name: revoked.name } });
        return revoked;
      }),
  });
}
