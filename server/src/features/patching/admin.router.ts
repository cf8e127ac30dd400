import { z } from 'zod';
import { localAdminProcedure, router } from '../../platform/trpc/trpc.ts';
import { notFound } from '../../platform/errors.ts';
import { audit } from '../audit/index.ts';
import { findOrganization } from '../organizations/organizations.ts';
import type { SqlExecutor } from '../../stores/relational/index.ts';
import { deviceOrganization, inventoryState, listSoftware } from './inventory-repository.ts';
import { listDeployments } from './patch-repository.ts';
import { createPolicy, deletePolicy, listPolicies, updatePolicy, type ScopedPolicy } from './policy-repository.ts';
import { patchPolicySchema } from './policy.ts';
import { checkScope, scopeByName } from '../fleet/index.ts';
import { resolveDeviceRef } from '../commands/index.ts';

const orgRef = z.string().min(1).max(255);
const names = z.array(z.string().trim().min(1).max(256)).min(1).max(500);

async function organizationOf(db: SqlExecutor, ref: { org?: string | undefined; device?: string | undefined }): Promise<string> {
  if (ref.device) {
    const organizationId = await deviceOrganization(db, ref.device);
    if (!organizationId) throw notFound('Device');
    return organizationId;
  }
  const org = ref.org ? await findOrganization(db, ref.org) : null;
  if (!org) throw notFound(`Organization "${ref.org ?? ''}"`);
  return org.id;
}

/** `organization` (or `org`), `site:NAME`, `group:NAME` or `tag:NAME`, as the CLI writes it. */
const scopeText = z.string().trim().min(1).max(300).default('organization');

async function policyAt(db: SqlExecutor, organizationId: string, scope: string): Promise<{ kind: ScopedPolicy['scopeKind']; id: string | null; current: ScopedPolicy | null }> {
  const { kind, id } = await scopeByName(db, organizationId, scope);
  const current = (await listPolicies(db, organizationId)).find((policy) => policy.scopeKind === kind && policy.scopeValue === id) ?? null;
  return { kind, id, current };
}

/** `ninjait patches policy`: an organization's policies by scope, set (created or replaced) and removed by scope. */
const policyAdminRouter = router({
  list: localAdminProcedure.input(z.object({ org: orgRef.optional(), device: z.uuid().optional() }).strict()).query(async ({ ctx, input }) => {
    const organizationId = await organizationOf(ctx.services.db, input);
    const policies = await listPolicies(ctx.services.db, organizationId);
    return { policies, effective: input.device ? await ctx.services.patching.effectivePolicy(organizationId, input.device) : null };
  }),
  set: localAdminProcedure.input(z.object({
    org: orgRef, scope: scopeText,
    /** Devices (names or ids) the policy skips. */
    exclude: z.array(z.string().min(1).max(255)).max(500).default([]),
    policy: patchPolicySchema,
  }).strict()).mutation(async ({ ctx, input }) => {
    const organizationId = await organizationOf(ctx.services.db, input);
    const at = await policyAt(ctx.services.db, organizationId, input.scope);
    const excluded = await Promise.all(input.exclude.map((device) => resolveDeviceRef(ctx.services.db, device, organizationId)));
    const saved = at.current
      ? await updatePolicy(ctx.services.db, organizationId, at.current.id, input.policy, { excludedDeviceIds: excluded })
      : await createPolicy(ctx.services.db, organizationId, await checkScope(ctx.services.db, organizationId, at.kind, at.id), input.policy, excluded);
    await audit(ctx, { action: at.current ? 'patch.policy.update' : 'patch.policy.create', organizationId, resourceId: saved.id, details: { ...input, by: 'local-admin' } });
    return saved;
  }),
  remove: localAdminProcedure.input(z.object({ org: orgRef, scope: scopeText }).strict()).mutation(async ({ ctx, input }) => {
    const organizationId = await organizationOf(ctx.services.db, input);
    const at = await policyAt(ctx.services.db, organizationId, input.scope);
    if (!at.current) throw notFound('Patch policy');
    await deletePolicy(ctx.services.db, organizationId, at.current.id);
    await audit(ctx, { action: 'patch.policy.delete', organizationId, resourceId: at.current.id, details: { ...input, by: 'local-admin' } });
    return { ok: true as const };
  }),
});

/** What `ninjait software` and `ninjait patches` do on the server's machine, across organizations. */
export const patchingAdminRouter = router({
  policies: policyAdminRouter,
  software: localAdminProcedure.input(z.object({ device: z.uuid(), limit: z.number().int().min(1).max(20_000).default(5_000) }).strict())
    .query(async ({ ctx, input }) => {
      const organizationId = await organizationOf(ctx.services.db, input);
      const [items, state] = await Promise.all([
        listSoftware(ctx.services.db, organizationId, input.device, { limit: input.limit, offset: 0, search: null }),
        inventoryState(ctx.services.db, organizationId, input.device),
      ]);
      return { items, state };
    }),
  pending: localAdminProcedure.input(z.object({ org: orgRef.optional(), device: z.uuid().optional() }).strict())
    .query(async ({ ctx, input }) => {
      const organizationId = await organizationOf(ctx.services.db, input);
      const [updates, compliance, deployments] = await Promise.all([
        ctx.services.patching.updatesWithApproval(organizationId, input.device ?? null),
        ctx.services.patching.compliance(organizationId),
        listDeployments(ctx.services.db, organizationId, input.device ?? null, 20),
      ]);
      return { updates, compliance, deployments };
    }),
  deploy: localAdminProcedure.input(z.object({
    org: orgRef.optional(),
    device: z.uuid().optional(),
    names: names.optional(),
    schedule: z.enum(['now', 'window']).default('window'),
    retries: z.number().int().min(0).max(5).default(2),
  }).strict()).mutation(async ({ ctx, input }) => {
    const organizationId = await organizationOf(ctx.services.db, input);
    const result = await ctx.services.patching.deploy(organizationId, 'local-admin', {
      deviceIds: input.device ? [input.device] : undefined, names: input.names, schedule: input.schedule, retries: input.retries,
    });
    await audit(ctx, { action: 'patch.deploy', organizationId, details: { ...input, by: 'local-admin', deployments: result.deployments.length } });
    return result;
  }),
});
