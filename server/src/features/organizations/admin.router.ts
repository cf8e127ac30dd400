import { z } from 'zod';
import { createOrganization, findOrganization, listOrganizations } from './organizations.ts';
import { createUser, displayName, newUserSchema } from '../auth/index.ts';
import { createEnrollmentToken, listEnrollmentTokens, revokeEnrollmentToken } from '../enrollment/enrollment-tokens.ts';
import { listDevices } from '../devices/devices.ts';
import { notFound } from '../../platform/errors.ts';
import type { SqlExecutor } from '../../stores/relational/index.ts';
import { localAdminProcedure, router } from '../../platform/trpc/trpc.ts';
import { audit } from '../audit/index.ts';
import { newTokenSchema } from '../enrollment/tokens.router.ts';
import { withLatest } from '../devices/devices.router.ts';
import { patchingAdminRouter } from '../patching/admin.router.ts';

/** `--org` accepts an id or a name. */
const orgRef = z.object({ org: z.string().min(1).max(255) });

async function orgId(db: SqlExecutor, ref: string): Promise<string> {
  const org = await findOrganization(db, ref);
  if (!org) throw notFound(`Organization "${ref}"`);
  return org.id;
}

/** What the `ninjait` CLI does on the server's own machine, across organizations. */
export const adminRouter = router({
  organizations: router({
    create: localAdminProcedure
      .input(z.object({ name: displayName, provider: z.boolean().default(false) }).strict())
      .mutation(async ({ ctx, input }) => {
        const org = await createOrganization(ctx.services.db, input.name, { isProvider: input.provider });
        await audit(ctx, { action: 'organization.create', organizationId: org.id, resourceId: org.id, details: { name: input.name, provider: input.provider, by: 'local-admin' } });
        return org;
      }),
    list: localAdminProcedure.query(({ ctx }) => listOrganizations(ctx.services.db)),
  }),
  users: router({
    create: localAdminProcedure
      .input(newUserSchema.extend(orgRef.shape))
      .mutation(async ({ ctx, input }) => {
        const user = await createUser(ctx.services.db, { ...input, organizationId: await orgId(ctx.services.db, input.org) });
        await audit(ctx, { action: 'user.create', organizationId: user.organizationId, resourceId: user.id, details: { email: user.email, role: user.role, by: 'local-admin' } });
        return user;
      }),
  }),
  tokens: router({
    create: localAdminProcedure
      .input(newTokenSchema.extend(orgRef.shape))
      .mutation(async ({ ctx, input }) => {
        const created = await createEnrollmentToken(ctx.services.db, { ...input, organizationId: await orgId(ctx.services.db, input.org), createdBy: null });
        await audit(ctx, { action: 'token.create', organizationId: created.record.organizationId, resourceId: created.record.id, details: { name: input.name, maxUses: input.maxUses, expiresAt: created.record.expiresAt, by: 'local-admin' } });
        return created;
      }),
    list: localAdminProcedure
      .input(orgRef.strict())
      .query(async ({ ctx, input }) => listEnrollmentTokens(ctx.services.db, await orgId(ctx.services.db, input.org))),
    revoke: localAdminProcedure
      .input(orgRef.extend({ id: z.uuid() }).strict())
      .mutation(async ({ ctx, input }) => {
        const revoked = await revokeEnrollmentToken(ctx.services.db, await orgId(ctx.services.db, input.org), input.id);
        await audit(ctx, { action: 'token.revoke', organizationId: revoked.organizationId, resourceId: revoked.id, details: { name: revoked.name, by: 'local-admin' } });
        return revoked;
      }),
  }),
  devices: router({
    list: localAdminProcedure
      .input(orgRef.strict())
      .query(async ({ ctx, input }) => withLatest(ctx.services, await listDevices(ctx.services.db, await orgId(ctx.services.db, input.org)))),
  }),
  patching: patchingAdminRouter,
});
