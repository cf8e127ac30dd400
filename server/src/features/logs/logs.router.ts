import { z } from 'zod';
import { localAdminProcedure, router, userProcedure } from '../../platform/trpc/trpc.ts';
import type { DocumentStore } from '../../stores/documents/index.ts';

const HOUR_MS = 60 * 60 * 1000;
/** The strategy's query: errors in the last hour, newest first, 100. */
const RECENT_ERRORS_LIMIT = 100;

/** What these procedures use, built in the composition root (app/). */
export interface LogsRouterDeps {
  documents: DocumentStore;
}

export function createLogsRouter(deps: LogsRouterDeps) {
  return router({
    /** Errors of the caller's organization (its devices and agents) in the last hour, newest first. */
    recentErrors: userProcedure('admin').query(({ ctx }) =>
      deps.documents.logs.find({
        level: 'error', organizationId: ctx.user.organizationId, since: new Date(Date.now() - HOUR_MS), limit: RECENT_ERRORS_LIMIT,
      })),
    /** The same over the whole server, organizations and server-internal errors alike: the local CLI only. */
    serverErrors: localAdminProcedure
      .input(z.object({ sinceMinutes: z.number().int().min(1).max(7 * 24 * 60).default(60) }).strict().default({ sinceMinutes: 60 }))
      .query(({ input }) =>
        deps.documents.logs.find({ level: 'error', since: new Date(Date.now() - input.sinceMinutes * 60_000), limit: RECENT_ERRORS_LIMIT })),
  });
}
