import { z } from 'zod';
import { apiKeyScopeSchema } from '@ninjait/shared';
import { router, userProcedure } from '../../platform/trpc/trpc.ts';
import type { Audit } from '../audit/index.ts';
import type { ApiKeys } from './service.ts';

/** Longest a key may live: integrations are re-keyed at least every two years. */
export const MAX_KEY_DAYS = 730;

/** What these procedures use, built in the composition root (app/). */
export interface ApiKeysRouterDeps {
  apiKeys: ApiKeys;
  audit: Audit;
}

/**
 * A person's API keys. Every role may make keys (a key never does more than its maker); keys
 * themselves cannot call these procedures (see scopes.ts), so a leaked key cannot mint another.
 */
export function createApiKeysRouter(deps: ApiKeysRouterDeps) {
  return router({
    create: userProcedure('viewer')
      .input(z.object({
        name: z.string().trim().min(1).max(100),
        scopes: z.array(apiKeyScopeSchema).min(1).max(5),
        /** Null: the key lives until revoked. */
        expiresInDays: z.number().int().min(1).max(MAX_KEY_DAYS).nullable().default(90),
      }).strict())
      .mutation(async ({ ctx, input }) => {
        const created = await deps.apiKeys.create(ctx.user, input);
        await deps.audit(ctx, { action: 'apikey.create', resourceId: created.record.id, details: { name: input.name, scopes: created.record.scopes, expiresInDays: input.expiresInDays } });
        return created;
      }),
    list: userProcedure('viewer').query(({ ctx }) => deps.apiKeys.list(ctx.user)),
    revoke: userProcedure('viewer')
      .input(z.object({ id: z.uuid() }).strict())
      .mutation(async ({ ctx, input }) => {
        await deps.apiKeys.revoke(ctx.user, input.id);
        await deps.audit(ctx, { action: 'apikey.revoke', resourceId: input.id });
        return { ok: true };
      }),
  });
}
