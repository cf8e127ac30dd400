import { z } from 'zod';
import { router, userProcedure } from '../../platform/trpc/trpc.ts';
import { JOB_RUN_ROLE, targetPageFields, type BulkJobService } from '../bulk-jobs/index.ts';
import type { Audit, AuditWho } from '../audit/index.ts';
import { runOptions, runTarget, scheduleFields, scriptChanges, scriptFields } from './schemas.ts';
import { createScriptService } from './service.ts';
import type { RelationalStore } from '../../stores/relational/index.ts';
import type { Logger } from '../../platform/obs/logger.ts';
import type { CommandService } from '../commands/index.ts';

/** Who may create and edit scripts (what runs on every device is an admin's call); running needs the run-commands role. */
export const SCRIPT_WRITE_ROLE = 'admin';
/**
 * Reading the library, its runs and schedules: anyone in the organization, like the command
 * history (which already shows every script text and output that ran). A read-only API key
 * (`devices:read`, which acts as a viewer) can therefore read it too.
 */
const READ = 'viewer';
const id = z.object({ id: z.uuid() }).strict();

/** What the script library's procedures use, built in the composition root (app/). */
export interface ScriptsRouterDeps {
  db: RelationalStore;
  log: Logger;
  commands: CommandService;
  jobs: BulkJobService;
  audit: Audit;
}

type Ctx = AuditWho & { user: { userId: string; email: string; organizationId: string } };
const who = (ctx: Ctx) => ({ userId: ctx.user.userId, label: ctx.user.email, organizationId: ctx.user.organizationId, ip: ctx.ip });

/** The script library: saved scripts and their versions, runs with per-device results, schedules. */
export function createScriptsRouter(deps: ScriptsRouterDeps) {
  /** The request's script service, over the shared commands and bulk jobs (it holds no state of its own); entries name the caller. */
  const scriptsOf = (ctx: Ctx) => createScriptService({
    db: deps.db, log: deps.log, commands: deps.commands, jobs: deps.jobs, audit: (_ip, event) => deps.audit(ctx, event),
  });

  const schedulesRouter = router({
    list: userProcedure(READ).input(z.object({ scriptId: z.uuid().optional() }).strict().default({}))
      .query(({ ctx, input }) => scriptsOf(ctx).listSchedules(ctx.user.organizationId, input.scriptId ?? null)),
    create: userProcedure(JOB_RUN_ROLE).input(scheduleFields)
      .mutation(({ ctx, input }) => scriptsOf(ctx).createSchedule(who(ctx), input)),
    setEnabled: userProcedure(JOB_RUN_ROLE).input(id.extend({ enabled: z.boolean() }).strict())
      .mutation(({ ctx, input }) => scriptsOf(ctx).setScheduleEnabled(who(ctx), input.id, input.enabled)),
    delete: userProcedure(JOB_RUN_ROLE).input(id)
      .mutation(({ ctx, input }) => scriptsOf(ctx).deleteSchedule(who(ctx), input.id)),
  });

  return router({
    list: userProcedure(READ).query(({ ctx }) => scriptsOf(ctx).list(ctx.user.organizationId)),
    /** The script, its current body and parameters, and every version. */
    get: userProcedure(READ).input(id).query(({ ctx, input }) => scriptsOf(ctx).get(ctx.user.organizationId, input.id)),
    create: userProcedure(SCRIPT_WRITE_ROLE).input(scriptFields).mutation(({ ctx, input }) => scriptsOf(ctx).create(who(ctx), input)),
    update: userProcedure(SCRIPT_WRITE_ROLE).input(scriptChanges).mutation(({ ctx, input }) => scriptsOf(ctx).update(who(ctx), input)),
    run: userProcedure(JOB_RUN_ROLE).input(z.object({ id: z.uuid(), target: runTarget, ...runOptions }).strict())
      .mutation(({ ctx, input: { id: scriptId, ...request } }) => scriptsOf(ctx).run(who(ctx), scriptId, request)),
    runs: router({
      list: userProcedure(READ).input(z.object({ scriptId: z.uuid().optional(), limit: z.number().int().min(1).max(500).default(50) }).strict().default({ limit: 50 }))
        .query(({ ctx, input }) => scriptsOf(ctx).listRuns(ctx.user.organizationId, input.scriptId ?? null, input.limit)),
      get: userProcedure(READ).input(id.extend(targetPageFields).strict())
        .query(({ ctx, input: { id: runId, ...page } }) => scriptsOf(ctx).getRun(ctx.user.organizationId, runId, page)),
    }),
    schedules: schedulesRouter,
  });
}
