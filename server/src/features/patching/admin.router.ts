import { z } from 'zod';
import { localAdminProcedure, router } from '../../platform/trpc/trpc.ts';
import { notFound } from '../../platform/errors.ts';
import { findOrganization } from '../organizations/index.ts';
import type { SqlExecutor, RelationalStore } from '../../stores/relational/index.ts';
import { deviceOrganization, inventoryState, listSoftware } from './inventory-repository.ts';
import { listDeployments } from './patch-repository.ts';
import { createPolicy, deletePolicy, listPolicies, updatePolicy, type ScopedPolicy } from './policy-repository.ts';
import { patchPolicySchema } from './policy.ts';
import { checkScope, scopeByName } from '../fleet/index.ts';
import { resolveDeviceRef } from '../commands/index.ts';
import type { Audit } from '../audit/index.ts';
import type { PatchingService } from './service.ts';

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

/** What these procedures use, built in the composition root (app/). */
export interface PatchingAdminRouterDeps {
  audit: Audit;
  db: RelationalStore;
  patching: PatchingService;
}

/** `ninjait patches policy`: an organization's policies by scope, set (created or replaced) and removed by scope. */
function createPolicyAdminRouter(deps: PatchingAdminRouterDeps) {
  return router({
    list: localAdminProcedure.input(z.object({ org: orgRef.optional(), device: z.uuid().optional() }).strict()).query(async ({ input }) => {
      const organizationId = await organizationOf(deps.db, input);
      const policies = await listPolicies(deps.db, organizationId);
      return { policies, effective: input.device ? await deps.patching.effectivePolicy(organizationId, input.device) : null };
    }),
    set: localAdminProcedure.input(z.object({
      org: orgRef, scope: scopeText,
      /** Devices (names or ids) the policy skips. */
      exclude: z.array(z.string().min(1).max(255)).max(500).default([]),
      policy: patchPolicySchema,
    }).strict()).mutation(async ({ ctx, input }) => {
      const organizationId = await organizationOf(deps.db, input);
      const at = await policyAt(deps.db, organizationId, input.scope);
      const excluded = await Promise.all(input.exclude.map((device) => resolveDeviceRef(deps.db, device, organizationId)));
      const saved = at.current
        ? await updatePolicy(deps.db, organizationId, at.current.id, input.policy, { excludedDeviceIds: excluded })
        : await createPolicy(deps.db, organizationId, await checkScope(deps.db, organizationId, at.kind, at.id), input.policy, excluded);
      await deps.audit(ctx, { action: at.current ? 'patch.policy.update' : 'patch.policy.create', organizationId, resourceId: saved.id, details: { ...input, by: 'local-admin' } });
      return saved;
    }),
    remove: localAdminProcedure.input(z.object({ org: orgRef, scope: scopeText }).strict()).mutation(async ({ ctx, input }) => {
      const organizationId = await organizationOf(deps.db, input);
      const at = await policyAt(deps.db, organizationId, input.scope);
      if (!at.current) throw notFound('Patch policy');
      await deletePolicy(deps.db, organizationId, at.current.id);
      await deps.audit(ctx, { action: 'patch.policy.delete', organizationId, resourceId: at.current.id, details: { ...input, by: 'local-admin' } });
      return { ok: true as const };
    }),
  });
}

/** What `ninjait software` and `ninjait patches` do on the server's machine, across organizations. */
export function createPatchingAdminRouter(deps: PatchingAdminRouterDeps) {
  return router({
    policies: createPolicyAdminRouter(deps),
    software: localAdminProcedure.input(z.object({ device: z.uuid(), limit: z.number().int().min(1).max(20_000).default(5_000) }).strict())
      .query(async ({ input }) => {
        const organizationId = await organizationOf(deps.db, input);
        const [items, state] = await Promise.all([
          listSoftware(deps.db, organizationId, input.device, { limit: input.limit, offset: 0, search: null }),
          inventoryState(deps.db, organizationId, input.device),
        ]);
        return { items, state };
      }),
    pending: localAdminProcedure.input(z.object({ org: orgRef.optional(), device: z.uuid().optional() }).strict())
      .query(async ({ input }) => {
        const organizationId = await organizationOf(deps.db, input);
        const [updates, compliance, deployments] = await Promise.all([
          deps.patching.updatesWithApproval(organizationId, input.device ?? null),
          deps.patching.compliance(organizationId),
          listDeployments(deps.db, organizationId, input.device ?? null, 20),
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
      const organizationId = await organizationOf(deps.db, input);
      const result = await deps.patching.deploy(organizationId, 'local-admin', {
        deviceIds: input.device ? [input.device] : undefined, names: input.names, schedule: input.schedule, retries: input.retries,
      });
      await deps.audit(ctx, { action: 'patch.deploy', organizationId, details: { ...input, by: 'local-admin', deployments: result.deployments.length } });
      return result;
    }),
  });
}
