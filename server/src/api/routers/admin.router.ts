import { z } from 'zod';
import { createOrganization, findOrganization, listOrganizations } from '../../domain/organizations.ts';
import { createUser } from '../../domain/users.ts';
import { createEnrollmentToken, listEnrollmentTokens, revokeEnrollmentToken } from '../../domain/enrollment-tokens.ts';
import { listDevices } from '../../domain/devices.ts';
import { notFound } from '../../errors.ts';
import type { SqlExecutor } from '../../stores/relational/index.ts';
import { localAdminProcedure, router } from '../trpc.ts';
import { newUserSchema } from './users.router.ts';
import { newTokenSchema } from './tokens.router.ts';
import { withLatest } from './devices.router.ts';

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
      .input(z.object({ name: z.string().trim().min(1).max(255) }).strict())
      .mutation(({ ctx, input }) => createOrganization(ctx.services.db, input.name)),
    list: localAdminProcedure.query(({ ctx }) => listOrganizations(ctx.services.db)),
  }),
  users: router({
    create: localAdminProcedure
      .input(newUserSchema.extend(orgRef.shape))
      .mutation(async ({ ctx, input }) =>
        createUser(ctx.services.db, { ...input, organizationId: await orgId(ctx.services.db, input.org) })),
  }),
  tokens: router({
    create: localAdminProcedure
      .input(newTokenSchema.extend(orgRef.shape))
      .mutation(async ({ ctx, input }) =>
        createEnrollmentToken(ctx.services.db, { ...input, organizationId: await orgId(ctx.services.db, input.org), createdBy: null })),
    list: localAdminProcedure
      .input(orgRef.strict())
      .query(async ({ ctx, input }) => listEnrollmentTokens(ctx.services.db, await orgId(ctx.services.db, input.org))),
    revoke: localAdminProcedure
      .input(orgRef.extend({ id: z.uuid() }).strict())
      .mutation(async ({ ctx, input }) => revokeEnrollmentToken(ctx.services.db, await orgId(ctx.services.db, input.org), input.id)),
  }),
  devices: router({
    list: localAdminProcedure
      .input(orgRef.strict())
      .query(async ({ ctx, input }) => withLatest(ctx.services, await listDevices(ctx.services.db, await orgId(ctx.services.db, input.org)))),
  }),
});
