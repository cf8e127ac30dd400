import { z } from 'zod';
import { createOrganization, findOrganization, listOrganizations } from './organizations.ts';
import { createUser, displayName, newUserSchema } from '../auth/index.ts';
import { createEnrollmentToken, listEnrollmentTokens, newTokenSchema, revokeEnrollmentToken } from '../enrollment/index.ts';
import { listDevices, withLatest } from '../devices/index.ts';
import { notFound } from '../../platform/errors.ts';
import type { SqlExecutor, RelationalStore } from '../../stores/relational/index.ts';
import { localAdminProcedure, router } from '../../platform/trpc/trpc.ts';
import type { Audit } from '../audit/index.ts';
import type { CacheStore } from '../../stores/cache/index.ts';

/** `--org` accepts an id or a name. */
const orgRef = z.object({ org: z.string().min(1).max(255) });

async function orgId(db: SqlExecutor, ref: string): Promise<string> {
  const org = await findOrganization(db, ref);
  if (!org) throw notFound(`Organization "${ref}"`);
  return org.id;
}

/** What these procedures use, built in the composition root (app/). */
export interface AdminRouterDeps {
  audit: Audit;
  cache: CacheStore;
  db: RelationalStore;
}

/** What the `ninjait` CLI does on the server's own machine, across organizations. */
export function createAdminRouter(deps: AdminRouterDeps) {
  return router({
    organizations: router({
      create: localAdminProcedure
        .input(z.object({ name: displayName, provider: z.boolean().default(false) }).strict())
        .mutation(async ({ ctx, input }) => {
          const org = await createOrganization(deps.db, input.name, { isProvider: input.provider });
          await deps.audit(ctx, { action: 'organization.create', organizationId: org.id, resourceId: org.id, details: { name: input.name, provider: input.provider, by: 'local-admin' } });
          return org;
        }),
      list: localAdminProcedure.query(() => listOrganizations(deps.db)),
    }),
    users: router({
      create: localAdminProcedure
        .input(newUserSchema.extend(orgRef.shape))
        .mutation(async ({ ctx, input }) => {
          const user = await createUser(deps.db, { ...input, organizationId: await orgId(deps.db, input.org) });
          await deps.audit(ctx, { action: 'user.create', organizationId: user.organizationId, resourceId: user.id, details: { email: user.email, role: user.role, by: 'local-admin' } });
          return user;
        }),
    }),
    tokens: router({
      create: localAdminProcedure
        .input(newTokenSchema.extend(orgRef.shape))
        .mutation(async ({ ctx, input }) => {
          const created = await createEnrollmentToken(deps.db, { ...input, organizationId: await orgId(deps.db, input.org), createdBy: null });
          await deps.audit(ctx, { action: 'token.create', organizationId: created.record.organizationId, resourceId: created.record.id, details: { name: input.name, maxUses: input.maxUses, expiresAt: created.record.expiresAt, by: 'local-admin' } });
          return created;
        }),
      list: localAdminProcedure
        .input(orgRef.strict())
        .query(async ({ input }) => listEnrollmentTokens(deps.db, await orgId(deps.db, input.org))),
      revoke: localAdminProcedure
        .input(orgRef.extend({ id: z.uuid() }).strict())
        .mutation(async ({ ctx, input }) => {
          const revoked = await revokeEnrollmentToken(deps.db, await orgId(deps.db, input.org), input.id);
          await deps.audit(ctx, { action: 'token.revoke', organizationId: revoked.organizationId, resourceId: revoked.id, details: { name: revoked.name, by: 'local-admin' } });
          return revoked;
        }),
    }),
    devices: router({
      list: localAdminProcedure
        .input(orgRef.strict())
        .query(async ({ input }) => withLatest(deps, await listDevices(deps.db, await orgId(deps.db, input.org)))),
    }),
  });
}
