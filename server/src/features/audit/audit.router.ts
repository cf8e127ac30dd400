import { z } from 'zod';
import { AppError } from '../../platform/errors.ts';
import { router, userProcedure } from '../../platform/trpc/trpc.ts';
import type { DocumentStore } from '../../stores/documents/index.ts';

const auditQuerySchema = z.object({
  userId: z.uuid().optional(),
  action: z.string().min(1).max(64).regex(/^[a-z_]+\.[a-z_]+$/, 'an action like token.create').optional(),
  resourceId: z.string().min(1).max(255).optional(),
  since: z.coerce.date().optional(),
  until: z.coerce.date().optional(),
  limit: z.number().int().min(1).max(1_000).default(100),
}).strict();

/** What these procedures use, built in the composition root (app/). */
export interface AuditRouterDeps {
  documents: DocumentStore;
}

export function createAuditRouter(deps: AuditRouterDeps) {
  return router({
    /** The caller's organization's audit log, newest first, filtered by user, action, resource and time. */
    list: userProcedure('admin')
      .input(auditQuerySchema.default({ limit: 100 }))
      .query(({ ctx, input }) => {
        if (input.since && input.until && input.since >= input.until) throw new AppError('BAD_REQUEST', '`since` must be before `until`');
        return deps.documents.auditLog.find({ ...input, organizationId: ctx.user.organizationId });
      }),
  });
}
