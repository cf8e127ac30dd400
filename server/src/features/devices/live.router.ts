import { z } from 'zod';
import { router, userProcedure } from '../../platform/trpc/trpc.ts';
import { revocable, scopeOf, type Sessions } from '../auth/index.ts';
import { feedEvents, type LiveFeedDeps } from './live-feed.ts';

/** What these procedures use, built in the composition root (app/). */
export interface LiveRouterDeps extends LiveFeedDeps {
  sessions: Sessions;
}

export function createLiveRouter(deps: LiveRouterDeps) {
  return router({
    /** Device status and latest values of the caller's organization, pushed as they change; ends when the session does. */
    devices: userProcedure('viewer')
      .input(z.object({ deviceId: z.uuid().optional() }).strict().optional())
      .subscription(({ ctx, input, signal }) =>
        revocable(deps.sessions, scopeOf(ctx), signal, (ended) => feedEvents(deps, ctx.user.organizationId, input?.deviceId, ended))),
  });
}
