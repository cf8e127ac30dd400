import { z } from 'zod';
import { storableText } from '@ninjait/shared';
import { AppError, notFound } from '../../platform/errors.ts';
import { localAdminProcedure, router } from '../../platform/trpc/trpc.ts';
import type { SqlExecutor, RelationalStore } from '../../stores/relational/index.ts';
import { createOrganization, findOrganization } from '../organizations/index.ts';
import { GRANT_ROLES, grantAccess, revokeAccess, type GrantDeps } from './grants.ts';
import { listGrants } from './grants-repository.ts';
import { isProvider, listClients } from './repository.ts';
import type { Audit } from '../audit/index.ts';

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

/** What these procedures use, built in the composition root (app/). */
export interface ProvidersAdminRouterDeps extends GrantDeps {
  audit: Audit;
  db: RelationalStore;
}

/** The CLI's provider commands (`ninjait client`, `ninjait grant`), for the people who run the server. */
export function createProvidersAdminRouter(deps: ProvidersAdminRouterDeps) {
  return router({
    clients: router({
      list: localAdminProcedure
        .input(z.object({ org: ref }).strict())
        .query(async ({ input }) => listClients(deps.db, await providerId(deps.db, input.org))),
      create: localAdminProcedure
        .input(z.object({ org: ref, name: z.string().trim().min(1).max(255).transform(storableText) }).strict())
        .mutation(async ({ ctx, input }) => {
          const provider = await providerId(deps.db, input.org);
          const client = await createOrganization(deps.db, input.name, { providerId: provider });
          await deps.audit(ctx, { action: 'organization.create', organizationId: provider, resourceId: client.id, details: { name: client.name, client: true, by: 'local-admin' } });
          await deps.audit(ctx, { action: 'organization.create', organizationId: client.id, resourceId: client.id, details: { name: client.name, by: 'local-admin' } });
          return client;
        }),
    }),
    grants: router({
      list: localAdminProcedure
        .input(z.object({ org: ref, client: ref.optional() }).strict())
        .query(async ({ input }) => {
          const provider = await providerId(deps.db, input.org);
          return listGrants(deps.db, provider, { clientId: input.client === undefined ? undefined : await clientId(deps.db, input.client) });
        }),
      set: localAdminProcedure
        .input(z.object({ org: ref, client: ref, email, role: z.enum(GRANT_ROLES) }).strict())
        .mutation(async ({ ctx, input }) => {
          const provider = await providerId(deps.db, input.org);
          return grantAccess(deps, ctx, provider, { clientId: await clientId(deps.db, input.client), role: input.role, who: { email: input.email }, by: 'local-admin' });
        }),
      revoke: localAdminProcedure
        .input(z.object({ org: ref, client: ref, email }).strict())
        .mutation(async ({ ctx, input }) => {
          const provider = await providerId(deps.db, input.org);
          return revokeAccess(deps, ctx, provider, { clientId: await clientId(deps.db, input.client), who: { email: input.email }, by: 'local-admin' });
        }),
    }),
  });
}
