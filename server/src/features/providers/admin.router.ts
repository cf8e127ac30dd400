import { z } from 'zod';
import { storableText } from '@ninjait/shared';
import { AppError, notFound } from '../../platform/errors.ts';
import { localAdminProcedure, router } from '../../platform/trpc/trpc.ts';
import type { SqlExecutor } from '../../stores/relational/index.ts';
import { audit } from '../audit/index.ts';
import { createOrganization, findOrganization } from '../organizations/index.ts';
import { GRANT_ROLES, grantAccess, revokeAccess } from './grants.ts';
import { listGrants } from './grants-repository.ts';
import { isProvider, listClients } from './repository.ts';

/** `--org` and `--client` accept an id or a name. */
const ref = z.string().trim().min(1).max(255);
const email = z.email().max(255);

/** The provider organization `--org` names, or a plain refusal. */
async function providerId(db: SqlExecutor, orgRef: string): Promise<string> {
  const org = await findOrganization(db, orgRef);
  if (!org) throw notFound(`Organization "${orgRef}"`);
  if (!(await isProvider(db, org.id))) throw new AppError('BAD_REQUEST', `${org.name} is not a provider: only providers have clients`);
  return org.id;
}

async function clientId(db: SqlExecutor, clientRef: string): Promise<string> {
  const org = await findOrganization(db, clientRef);
  if (!org) throw notFound(`Organization "${clientRef}"`);
  return org.id;
}

/** The CLI's provider commands (`ninjait client`, `ninjait grant`), for the people who run the server. */
export const providersAdminRouter = router({
  clients: router({
    list: localAdminProcedure
      .input(z.object({ org: ref }).strict())
      .query(async ({ ctx, input }) => listClients(ctx.services.db, await providerId(ctx.services.db, input.org))),
    create: localAdminProcedure
      .input(z.object({ org: ref, name: z.string().trim().min(1).max(255).transform(storableText) }).strict())
      .mutation(async ({ ctx, input }) => {
        const provider = await providerId(ctx.services.db, input.org);
        const client = await createOrganization(ctx.services.db, input.name, { providerId: provider });
        await audit(ctx, { action: 'organization.create', organizationId: provider, resourceId: client.id, details: { name: client.name, client: true, by: 'local-admin' } });
        await audit(ctx, { action: 'organization.create', organizationId: client.id, resourceId: client.id, details: { name: client.name, by: 'local-admin' } });
        return client;
      }),
  }),
  grants: router({
    list: localAdminProcedure
      .input(z.object({ org: ref, client: ref.optional() }).strict())
      .query(async ({ ctx, input }) => {
        const provider = await providerId(ctx.services.db, input.org);
        return listGrants(ctx.services.db, provider, { clientId: input.client === undefined ? undefined : await clientId(ctx.services.db, input.client) });
      }),
    set: localAdminProcedure
      .input(z.object({ org: ref, client: ref, email, role: z.enum(GRANT_ROLES) }).strict())
      .mutation(async ({ ctx, input }) => {
        const provider = await providerId(ctx.services.db, input.org);
        return grantAccess(ctx, provider, { clientId: await clientId(ctx.services.db, input.client), role: input.role, who: { email: input.email }, by: 'local-admin' });
      }),
    revoke: localAdminProcedure
      .input(z.object({ org: ref, client: ref, email }).strict())
      .mutation(async ({ ctx, input }) => {
        const provider = await providerId(ctx.services.db, input.org);
        return revokeAccess(ctx, provider, { clientId: await clientId(ctx.services.db, input.client), who: { email: input.email }, by: 'local-admin' });
      }),
  }),
});
