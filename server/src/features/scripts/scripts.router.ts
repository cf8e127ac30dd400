import { z } from 'zod';
import { router, userProcedure } from '../../platform/trpc/trpc.ts';
import { JOB_RUN_ROLE } from '../bulk-jobs/bulk-service.ts';
import { runOptions, runTarget, scheduleFields, scriptChanges, scriptFields } from './schemas.ts';

/** Who may create and edit scripts (what runs on every device is an admin's call); running needs the run-commands role. */
export const SCRIPT_WRITE_ROLE = 'admin';
const READ = 'technician';
const id = z.object({ id: z.uuid() }).strict();

type Ctx = { user: { userId: string; email: string; organizationId: string }; ip: string | null };
const who = (ctx: Ctx) => ({ userId: ctx.user.userId, label: ctx.user.email, organizationId: ctx.user.organizationId, ip: ctx.ip });

const schedulesRouter = router({
  list: userProcedure(READ).input(z.object({ scriptId: z.uuid().optional() }).strict().default({}))
    .query(({ ctx, input }) => ctx.services.scripts.listSchedules(ctx.user.organizationId, input.scriptId ?? null)),
  create: userProcedure(JOB_RUN_ROLE).input(scheduleFields)
    .mutation(({ ctx, input }) => ctx.services.scripts.createSchedule(who(ctx), input)),
  setEnabled: userProcedure(JOB_RUN_ROLE).input(id.extend({ enabled: z.boolean() }).strict())
    .mutation(({ ctx, input }) => ctx.services.scripts.setScheduleEnabled(who(ctx), input.id, input.enabled)),
  delete: userProcedure(JOB_RUN_ROLE).input(id)
    .mutation(({ ctx, input }) => ctx.services.scripts.deleteSchedule(who(ctx), input.id)),
});

/** The script library: saved scripts and their versions, runs with per-device results, schedules. */
export const scriptsRouter = router({
  list: userProcedure(READ).query(({ ctx }) => ctx.services.scripts.list(ctx.user.organizationId)),
  /** The script, its current body and parameters, and every version. */
  get: userProcedure(READ).input(id).query(({ ctx, input }) => ctx.services.scripts.get(ctx.user.organizationId, input.id)),
  create: userProcedure(SCRIPT_WRITE_ROLE).input(scriptFields).mutation(({ ctx, input }) => ctx.services.scripts.create(who(ctx), input)),
  update: userProcedure(SCRIPT_WRITE_ROLE).input(scriptChanges).mutation(({ ctx, input }) => ctx.services.scripts.update(who(ctx), input)),
  run: userProcedure(JOB_RUN_ROLE).input(z.object({ id: z.uuid(), target: runTarget, ...runOptions }).strict())
    .mutation(({ ctx, input: { id: scriptId, ...request } }) => ctx.services.scripts.run(who(ctx), scriptId, request)),
  runs: router({
    list: userProcedure(READ).input(z.object({ scriptId: z.uuid().optional(), limit: z.number().int().min(1).max(500).default(50) }).strict().default({ limit: 50 }))
      .query(({ ctx, input }) => ctx.services.scripts.listRuns(ctx.user.organizationId, input.scriptId ?? null, input.limit)),
    get: userProcedure(READ).input(id).query(({ ctx, input }) => ctx.services.scripts.getRun(ctx.user.organizationId, input.id)),
  }),
  schedules: schedulesRouter,
});
