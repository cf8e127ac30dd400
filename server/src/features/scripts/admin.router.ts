import { z } from 'zod';
import { roleAtLeast } from '@ninjait/shared';
import type { SqlExecutor, RelationalStore } from '../../stores/relational/index.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import { localAdminProcedure, router } from '../../platform/trpc/trpc.ts';
import { listUsers } from '../auth/index.ts';
import { findOrganization } from '../organizations/index.ts';
import { JOB_RUN_ROLE, targetPageFields, type BulkJobService } from '../bulk-jobs/index.ts';
import { resolveDeviceRef, type CommandService } from '../commands/index.ts';
import { scopeByName } from '../fleet/index.ts';
import { createScriptService, type ScriptService } from './service.ts';
import { LANGUAGES, parameterList, TARGET_OS, type ParameterDefinition, type ParameterValues, type RunTarget } from './schemas.ts';
import type { Audit, AuditWho } from '../audit/index.ts';
import type { Logger } from '../../platform/obs/logger.ts';

const ref = z.string().trim().min(1).max(255);
const orgRef = z.object({ org: ref });
const LOCAL_ADMIN = 'local-admin';

async function orgId(db: SqlExecutor, org: string): Promise<string> {
  const found = await findOrganization(db, org);
  if (!found) throw notFound(`Organization "${org}"`);
  return found.id;
}

/**
 * The person a run or schedule from the CLI acts for: runs go through bulk jobs, which act with a
 * person's authority at each device's turn (a schedule stops when its person leaves or is demoted).
 */
async function actingPerson(db: SqlExecutor, organizationId: string, email: string) {
  const user = (await listUsers(db, organizationId)).find((u) => u.email.toLowerCase() === email.toLowerCase());
  if (!user) throw notFound(`Person "${email}" in that organization`);
  if (!roleAtLeast(user.role, JOB_RUN_ROLE)) throw new AppError('FORBIDDEN', `${email} is a ${user.role}; running scripts needs ${JOB_RUN_ROLE} or higher`);
  return { userId: user.id, label: `${user.email} (via ${LOCAL_ADMIN})`, organizationId, ip: null };
}

/** The CLI's target words: `organization`, `site:NAME`, `group:NAME`, `tag:NAME`, or device names/ids. */
async function targetOf(db: SqlExecutor, organizationId: string, input: { target?: string | undefined; devices?: string[] | undefined }): Promise<RunTarget> {
  if (input.devices?.length) {
    if (input.target) throw new AppError('BAD_REQUEST', 'Name devices or a target, not both');
    const ids = await Promise.all(input.devices.map((device) => resolveDeviceRef(db, device, organizationId)));
    return { kind: 'devices', deviceIds: [...new Set(ids)] };
  }
  const scope = await scopeByName(db, organizationId, input.target ?? 'organization');
  return scope.kind === 'organization' ? { kind: 'organization' } : { kind: scope.kind, id: scope.id! };
}

const scriptsOf = (deps: ScriptsAdminRouterDeps, ctx: AuditWho): ScriptService => createScriptService({
  db: deps.db, log: deps.log, commands: deps.commands, jobs: deps.jobs,
  // The local admin did it: the entry names the person the run acts for in its details.
  audit: (_ip, { userId, ...event }) => deps.audit(ctx, { ...event, details: { ...event.details, by: LOCAL_ADMIN, actingFor: userId ?? null } }),
});
const scriptRef = async (scripts: ScriptService, organizationId: string, text: string) =>
  (z.uuid().safeParse(text).success ? scripts.get(organizationId, text) : scripts.byName(organizationId, text));

const runWords = {
  script: ref,
  target: ref.optional(),
  devices: z.array(ref).max(1000).optional(),
  as: z.email().max(320),
  /** As typed on the command line (NAME=VALUE); turned into each parameter's type here. */
  parameters: z.record(z.string().max(64), z.string().max(4096)).refine((v) => Object.keys(v).length <= 20, 'at most 20 parameters').default({}),
};

/** Command-line text to the parameter's type ("7" → 7, "true" → true); the service then checks bounds and names. */
function typedValues(definitions: readonly ParameterDefinition[], raw: Record<string, string>): ParameterValues {
  const types = new Map(definitions.map((d) => [d.name, d.type]));
  return Object.fromEntries(Object.entries(raw).map(([name, text]) => {
    const type = types.get(name);
    if (type === 'number') {
      const value = Number(text);
      if (text.trim() === '' || !Number.isFinite(value)) throw new AppError('BAD_REQUEST', `The parameter "${name}" is a number, not "${text.slice(0, 50)}"`);
      return [name, value];
    }
    if (type === 'boolean') {
      if (text !== 'true' && text !== 'false') throw new AppError('BAD_REQUEST', `The parameter "${name}" is true or false, not "${text.slice(0, 50)}"`);
      return [name, text === 'true'];
    }
    return [name, text];
  }));
}

/** What these procedures use, built in the composition root (app/). */
export interface ScriptsAdminRouterDeps {
  audit: Audit;
  commands: CommandService;
  db: RelationalStore;
  jobs: BulkJobService;
  log: Logger;
}

/** The `ninjait script` commands: the local admin, across organizations. */
export function createScriptsAdminRouter(deps: ScriptsAdminRouterDeps) {
  return router({
    create: localAdminProcedure.input(orgRef.extend({
      name: z.string().trim().min(1).max(200), language: z.enum(LANGUAGES), targetOs: z.array(z.enum(TARGET_OS)).min(1).max(3),
      body: z.string().min(1).max(4 * 1024 * 1024), parameters: parameterList.default([]), description: z.string().max(2000).default(''),
    }).strict()).mutation(async ({ ctx, input: { org, ...fields } }) => {
      const organizationId = await orgId(deps.db, org);
      return scriptsOf(deps, ctx).create({ userId: null, label: LOCAL_ADMIN, organizationId, ip: ctx.ip }, fields);
    }),
    list: localAdminProcedure.input(orgRef.strict()).query(async ({ ctx, input }) =>
      scriptsOf(deps, ctx).list(await orgId(deps.db, input.org))),
    run: localAdminProcedure.input(orgRef.extend(runWords).strict()).mutation(async ({ ctx, input }) => {
      const { db } = deps;
      const organizationId = await orgId(db, input.org);
      const scripts = scriptsOf(deps, ctx);
      const script = await scriptRef(scripts, organizationId, input.script);
      return scripts.run(await actingPerson(db, organizationId, input.as), script.id, {
        target: await targetOf(db, organizationId, input), parameters: typedValues(script.parameters, input.parameters),
      });
    }),
    schedule: localAdminProcedure.input(orgRef.extend({
      ...runWords, name: z.string().trim().min(1).max(200), cron: z.string().trim().min(1).max(200), timezone: z.string().trim().min(1).max(64),
    }).strict()).mutation(async ({ ctx, input }) => {
      const { db } = deps;
      const organizationId = await orgId(db, input.org);
      const scripts = scriptsOf(deps, ctx);
      const script = await scriptRef(scripts, organizationId, input.script);
      return scripts.createSchedule(await actingPerson(db, organizationId, input.as), {
        scriptId: script.id, name: input.name, cron: input.cron, timezone: input.timezone,
        target: await targetOf(db, organizationId, input), parameters: typedValues(script.parameters, input.parameters), enabled: true,
      });
    }),
    schedules: localAdminProcedure.input(orgRef.strict()).query(async ({ ctx, input }) =>
      scriptsOf(deps, ctx).listSchedules(await orgId(deps.db, input.org), null)),
    runResult: localAdminProcedure.input(orgRef.extend({ id: z.uuid(), ...targetPageFields }).strict()).query(async ({ ctx, input: { org, id, ...page } }) =>
      scriptsOf(deps, ctx).getRun(await orgId(deps.db, org), id, page)),
  });
}
