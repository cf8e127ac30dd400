import { z } from 'zod';
import { router, userProcedure } from '../../platform/trpc/trpc.ts';
import { revocable, scopeOf } from '../auth/index.ts';
import { feedEvents } from './live-feed.ts';

export const liveRouter = router({
  /** Device status and latest values of the caller's organization, pushed as they change; ends when the session does. */
  devices: userProcedure('viewer')
    .input(z.object({ deviceId: z.uuid().optional() }).strict().optional())
    .subscription(({ ctx, input, signal }) =>
      revocable(ctx.services.sessions, scopeOf(ctx), signal, (ended) => feedEvents(ctx.services, ctx.user.organizationId, input?.deviceId, ended))),
});
