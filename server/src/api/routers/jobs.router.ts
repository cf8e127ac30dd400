import { z } from 'zod';
import { router, userProcedure } from '../trpc.ts';
import { runInputSchema } from '../../commands/schemas.ts';

/** Devices one job may name explicitly; "every device of the organization" has no such limit. */
const MAX_JOB_DEVICES = 10_000;
const idInput = z.object({ id: z.uuid() }).strict();

/** Bulk jobs: one script on many devices through the `patch-deployment` queue. */
export const jobsRouter = router({
  create: userProcedure('technician')
    .input(runInputSchema.omit({ deviceId: true }).extend({
      name: z.string().trim().min(1).max(255).optional(),
      /** Omitted: every device of the organization. */
      deviceIds: z.array(z.uuid()).min(1).max(MAX_JOB_DEVICES).optional(),
      concurrency: z.number().int().min(1).max(1_000).default(10),
      retries: z.number().int().min(0).max(10).default(0),
    }).strict())
    .mutation(({ ctx, input }) => ctx.services.jobs.create(
      { userId: ctx.user.userId, label: ctx.user.email, organizationId: ctx.user.organizationId, ip: ctx.ip }, input)),
  /** The job, per-device results and progress. */
  status: userProcedure('viewer').input(idInput)
    .query(({ ctx, input }) => ctx.services.jobs.status(ctx.user.organizationId, input.id)),
  cancel: userProcedure('technician').input(idInput)
    .mutation(({ ctx, input }) => ctx.services.jobs.cancel(
      { userId: ctx.user.userId, label: ctx.user.email, organizationId: ctx.user.organizationId, ip: ctx.ip }, input.id)),
});
