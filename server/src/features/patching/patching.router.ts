import { z } from 'zod';
import { UPDATE_CLASSIFICATIONS } from '@ninjait/shared';
import { router, userProcedure } from '../../platform/trpc/trpc.ts';
import { notFound } from '../../platform/errors.ts';
import { deviceInOrganization, inventoryState, listServices, listSoftware } from './inventory-repository.ts';
import type { SqlExecutor, RelationalStore } from '../../stores/relational/index.ts';
import { approve, listDeployments, revoke, getDeployment } from './patch-repository.ts';
import { createPolicy, deletePolicy, getPolicy, listPolicies, savePolicy, updatePolicy } from './policy-repository.ts';
import { patchPolicySchema } from './policy.ts';
import { checkScope, scopeInputSchema } from '../fleet/index.ts';
import type { Audit } from '../audit/index.ts';
import type { PatchingService } from './service.ts';

const deviceInput = z.object({ deviceId: z.uuid() }).strict();
const page = { limit: z.number().int().min(1).max(5_000).default(500), offset: z.number().int().min(0).max(1_000_000).default(0) };
const packageName = z.string().trim().min(1).max(256);
const names = z.array(packageName).min(1).max(500);

/** Same NOT_FOUND for a device of another organization as for one that does not exist. */
async function ownDevice(db: SqlExecutor, ctx: { user: { organizationId: string } }, deviceId: string) {
  if (!(await deviceInOrganization(db, ctx.user.organizationId, deviceId))) throw notFound('Device');
}

/** What these procedures use, built in the composition root (app/). */
export interface PatchingRouterDeps {
  audit: Audit;
  db: RelationalStore;
  patching: PatchingService;
}

/** Software inventory of devices and the fleet: viewers read. */
export function createSoftwareRouter(deps: PatchingRouterDeps) {
  return router({
    list: userProcedure('viewer').input(deviceInput.extend({ ...page, search: z.string().trim().max(256).optional() }).strict())
      .query(async ({ ctx, input }) => {
        await ownDevice(deps.db, ctx, input.deviceId);
        const [items, state] = await Promise.all([
          listSoftware(deps.db, ctx.user.organizationId, input.deviceId, { limit: input.limit, offset: input.offset, search: input.search ?? null }),
          inventoryState(deps.db, ctx.user.organizationId, input.deviceId),
        ]);
        return { items, state };
      }),
    services: userProcedure('viewer').input(deviceInput.extend(page).strict())
      .query(async ({ ctx, input }) => {
        await ownDevice(deps.db, ctx, input.deviceId);
        return listServices(deps.db, ctx.user.organizationId, input.deviceId, input);
      }),
    /** Devices with `name` installed, optionally only those older than `olderThan` (the package's own version order). */
    search: userProcedure('viewer').input(z.object({ name: packageName, olderThan: z.string().trim().min(1).max(128).optional() }).strict())
      .query(({ ctx, input }) => deps.patching.olderThan(ctx.user.organizationId, input.name, input.olderThan ?? null)),
  });
}

/** Devices a policy skips (they fall through to the next less specific policy). */
const excludedDeviceIds = z.array(z.uuid()).max(500);

/**
 * Patch policies by scope: the organization, or one of its sites, groups or tags. A device is
 * under the most specific one that reaches it and does not exclude it (tag > group > site >
 * organization). Viewers read, admins change.
 */
function createPoliciesRouter(deps: PatchingRouterDeps) {
  return router({
    list: userProcedure('viewer').query(({ ctx }) => listPolicies(deps.db, ctx.user.organizationId)),
    /** Which policy a device is under, and by which scope. */
    effective: userProcedure('viewer').input(deviceInput).query(async ({ ctx, input }) => {
      await ownDevice(deps.db, ctx, input.deviceId);
      return deps.patching.effectivePolicy(ctx.user.organizationId, input.deviceId);
    }),
    create: userProcedure('admin').input(patchPolicySchema.extend({ scope: scopeInputSchema, excludedDeviceIds: excludedDeviceIds.default([]) }).strict())
      .mutation(async ({ ctx, input }) => {
        const { scope, excludedDeviceIds: excluded, ...policy } = input;
        const checked = await checkScope(deps.db, ctx.user.organizationId, scope.kind, scope.id);
        const created = await createPolicy(deps.db, ctx.user.organizationId, checked, policy, excluded);
        await deps.audit(ctx, { action: 'patch.policy.create', resourceId: created.id, details: { ...input } });
        return created;
      }),
    /** Replaces the policy's rules; scope and exclusions change only when given. */
    update: userProcedure('admin').input(patchPolicySchema.extend({ id: z.uuid(), scope: scopeInputSchema.optional(), excludedDeviceIds: excludedDeviceIds.optional() }).strict())
      .mutation(async ({ ctx, input }) => {
        const { id, scope, excludedDeviceIds: excluded, ...policy } = input;
        const checked = scope ? await checkScope(deps.db, ctx.user.organizationId, scope.kind, scope.id) : undefined;
        const updated = await updatePolicy(deps.db, ctx.user.organizationId, id, policy, { scope: checked, excludedDeviceIds: excluded });
        await deps.audit(ctx, { action: 'patch.policy.update', resourceId: id, details: { ...input } });
        return updated;
      }),
    delete: userProcedure('admin').input(z.object({ id: z.uuid() }).strict()).mutation(async ({ ctx, input }) => {
      await deletePolicy(deps.db, ctx.user.organizationId, input.id);
      await deps.audit(ctx, { action: 'patch.policy.delete', resourceId: input.id });
      return { ok: true as const };
    }),
  });
}

/** Pending updates, policy, approvals and deployments: viewers read, technicians deploy, admins set policy. */
export function createPatchesRouter(deps: PatchingRouterDeps) {
  return router({
    pending: userProcedure('viewer').input(z.object({ deviceId: z.uuid().optional(), classification: z.enum(UPDATE_CLASSIFICATIONS).optional() }).strict())
      .query(async ({ ctx, input }) => {
        if (input.deviceId) await ownDevice(deps.db, ctx, input.deviceId);
        const updates = await deps.patching.updatesWithApproval(ctx.user.organizationId, input.deviceId ?? null);
        return input.classification ? updates.filter((update) => update.classification === input.classification) : updates;
      }),
    compliance: userProcedure('viewer').query(({ ctx }) => deps.patching.compliance(ctx.user.organizationId)),
    policies: createPoliciesRouter(deps),
    /** The organization-wide policy (where no site, group or tag policy reaches). */
    policy: userProcedure('viewer').query(({ ctx }) => getPolicy(deps.db, ctx.user.organizationId)),
    setPolicy: userProcedure('admin').input(patchPolicySchema).mutation(async ({ ctx, input }) => {
      await savePolicy(deps.db, ctx.user.organizationId, input);
      await deps.audit(ctx, { action: 'patch.policy', resourceId: ctx.user.organizationId, details: { ...input } });
      return input;
    }),
    approve: userProcedure('technician').input(z.object({ names }).strict()).mutation(async ({ ctx, input }) => {
      await approve(deps.db, ctx.user.organizationId, input.names, ctx.user.email);
      await deps.audit(ctx, { action: 'patch.approve', details: { names: input.names } });
      return { approved: input.names.length };
    }),
    revoke: userProcedure('technician').input(z.object({ names }).strict()).mutation(async ({ ctx, input }) => {
      await revoke(deps.db, ctx.user.organizationId, input.names);
      await deps.audit(ctx, { action: 'patch.revoke', details: { names: input.names } });
      return { revoked: input.names.length };
    }),
    deploy: userProcedure('technician').input(z.object({
      deviceIds: z.array(z.uuid()).min(1).max(10_000).optional(),
      /** Only these updates (by name); omitted: every approved one. */
      names: names.optional(),
      schedule: z.enum(['now', 'window']).default('window'),
      retries: z.number().int().min(0).max(5).default(2),
    }).strict()).mutation(async ({ ctx, input }) => {
      const result = await deps.patching.deploy(ctx.user.organizationId, ctx.user.email, input);
      await deps.audit(ctx, { action: 'patch.deploy', details: { ...input, deployments: result.deployments.length } });
      return result;
    }),
    deployments: userProcedure('viewer').input(z.object({ deviceId: z.uuid().optional(), limit: z.number().int().min(1).max(1_000).default(100) }).strict())
      .query(({ ctx, input }) => listDeployments(deps.db, ctx.user.organizationId, input.deviceId ?? null, input.limit)),
    deployment: userProcedure('viewer').input(z.object({ id: z.uuid() }).strict()).query(async ({ ctx, input }) => {
      const deployment = await getDeployment(deps.db, input.id, ctx.user.organizationId);
      if (!deployment) throw notFound('Deployment');
      return deployment;
    }),
    cancel: userProcedure('technician').input(z.object({ id: z.uuid() }).strict()).mutation(async ({ ctx, input }) => {
      await deps.patching.cancel(ctx.user.organizationId, input.id);
      await deps.audit(ctx, { action: 'patch.cancel', resourceId: input.id });
      return { ok: true as const };
    }),
  });
}
