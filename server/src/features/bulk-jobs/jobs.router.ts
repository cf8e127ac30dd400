import { z } from 'zod';
import { router, userProcedure } from '../../platform/trpc/trpc.ts';
import { runInputSchema } from '../commands/index.ts';
import { JOB_RUN_ROLE, TARGETS_PAGE, type BulkJobService } from './bulk-service.ts';
import { jobTargetIds } from '../fleet/index.ts';
import { AppError } from '../../platform/errors.ts';
import type { RelationalStore } from '../../stores/relational/index.ts';

/** Devices one job may name explicitly; "every device of the organization" has no such limit. */
const MAX_JOB_DEVICES = 10_000;
const idInput = z.object({ id: z.uuid() }).strict();
/** Past any organization's device count: an offset beyond it is an empty page, not a long scan. */
const MAX_TARGET_OFFSET = 10_000_000;
/**
 * A page of a job's per-device results, by device name (jobs.status, and a script run's results):
 * the console shows the first, the CLI reads them all page by page.
 */
export const targetPageFields = {
  offset: z.number().int().min(0).max(MAX_TARGET_OFFSET).default(0),
  limit: z.number().int().min(0).max(1_000).default(TARGETS_PAGE),
};
const statusInput = idInput.extend(targetPageFields).strict();

/** What these procedures use, built in the composition root (app/). */
export interface JobsRouterDeps {
  db: RelationalStore;
  jobs: BulkJobService;
}

/** Bulk jobs: one script on many devices through the `patch-deployment` queue. */
export function createJobsRouter(deps: JobsRouterDeps) {
  return router({
  create: userProcedure(JOB_RUN_ROLE)
    .input(runInputSchema.omit({ deviceId: true }).extend({
      name: z.string().trim().min(1).max(255).optional(),
      /** Omitted (with no site or group): every device of the organization. */
      deviceIds: z.array(z.uuid()).min(1).max(MAX_JOB_DEVICES).optional(),
      /** The approved devices of a site and/or a saved group, resolved now (with deviceIds: those of them in it). */
      siteId: z.uuid().optional(),
      groupId: z.uuid().optional(),
      concurrency: z.number().int().min(1).max(1_000).default(10),
      retries: z.number().int().min(0).max(10).default(0),
    }).strict())
    .mutation(async ({ ctx, input: { siteId, groupId, ...input } }) => {
      let deviceIds = input.deviceIds;
      if (siteId || groupId) {
        const members = await jobTargetIds(deps.db, ctx.user.organizationId, { siteId, groupId });
        // A named device outside the site or group (or of another organization) is not found there.
        if (deviceIds?.some((id) => !members.includes(id))) throw new AppError('NOT_FOUND', `Device not found in that ${groupId ? 'group' : 'site'}`);
        deviceIds = deviceIds ?? members.slice(0, MAX_JOB_DEVICES);
        if (deviceIds.length === 0) throw new AppError('BAD_REQUEST', `The ${groupId ? 'group' : 'site'} has no approved device to run this on`);
      }
      return deps.jobs.create(
        { userId: ctx.user.userId, label: ctx.user.email, organizationId: ctx.user.organizationId, ip: ctx.ip }, { ...input, deviceIds });
    }),
  /** The job, its progress counted by status, and a page of per-device results. */
  status: userProcedure('viewer').input(statusInput)
    .query(({ ctx, input: { id, ...page } }) => deps.jobs.status(ctx.user.organizationId, id, page)),
  cancel: userProcedure(JOB_RUN_ROLE).input(idInput)
    .mutation(({ ctx, input }) => deps.jobs.cancel(
      { userId: ctx.user.userId, label: ctx.user.email, organizationId: ctx.user.organizationId, ip: ctx.ip }, input.id)),
});
}
