import { z } from 'zod';
import { DEVICE_LIST_STATUSES, storableText } from '@ninjait/shared';
import { AppError } from '../../platform/errors.ts';
import { router, userProcedure } from '../../platform/trpc/trpc.ts';
import { createOrganization } from '../organizations/index.ts';
import { enterableOrganizations } from './access.ts';
import { fleetCounts, fleetPage, isProvider, listClients } from './repository.ts';
import { createGrantsRouter, type GrantsRouterDeps } from './grants.router.ts';
import type { Audit } from '../audit/index.ts';
import type { RelationalStore } from '../../stores/relational/index.ts';
import type { Logger } from '../../platform/obs/logger.ts';

/** Most devices one page of the fleet view holds. */
export const FLEET_PAGE_MAX = 200;
/** How far the fleet view pages: past this, narrow by status. */
export const FLEET_OFFSET_MAX = 100_000;

const clientName = z.string().trim().min(1).max(255).transform(storableText);

const fleetInput = z.object({
  limit: z.number().int().min(1).max(FLEET_PAGE_MAX).default(50),
  offset: z.number().int().min(0).max(FLEET_OFFSET_MAX).default(0),
  status: z.enum(DEVICE_LIST_STATUSES).optional(),
}).strict();

/** Refuses, in plain words, what only a provider's people may do, from the provider's own organization. */
async function assertProvider(db: Parameters<typeof isProvider>[0], ctx: { user: { organizationId: string } }): Promise<void> {
  if (!(await isProvider(db, ctx.user.organizationId))) {
    throw new AppError('FORBIDDEN', 'Client organizations are managed from a provider organization: switch to your provider first');
  }
}

/** What these procedures use, built in the composition root (app/). */
export interface ProvidersRouterDeps extends GrantsRouterDeps {
  audit: Audit;
  db: RelationalStore;
  log: Logger;
}

/**
 * Providers (MSPs) and their clients. Client lists and creation work from the provider's own
 * organization (the caller's current one), for its admins. The fleet view spans every
 * organization the caller may enter, the one place a query reaches past the current organization:
 * it is derived from the caller's memberships (features/providers/access.ts), never from input.
 */
export function createProvidersRouter(deps: ProvidersRouterDeps) {
  return router({
    grants: createGrantsRouter(deps),

    /** The current organization's clients, with their people and devices; empty for an organization that is not a provider. */
    clients: userProcedure('admin').query(async ({ ctx }) => {
      if (!(await isProvider(deps.db, ctx.user.organizationId))) return [];
      return listClients(deps.db, ctx.user.organizationId);
    }),

    /** A new client organization of the current (provider) organization; its staff can enter it at once. */
    createClient: userProcedure('admin')
      .input(z.object({ name: clientName }).strict())
      .mutation(async ({ ctx, input }) => {
        await assertProvider(deps.db, ctx);
        const client = await createOrganization(deps.db, input.name, { providerId: ctx.user.organizationId });
        await deps.audit(ctx, { action: 'organization.create', resourceId: client.id, details: { name: client.name, client: true } });
        await deps.audit(ctx, { action: 'organization.create', organizationId: client.id, resourceId: client.id, details: { name: client.name, by: 'provider' } });
        deps.log.info({ providerId: ctx.user.organizationId, clientId: client.id }, 'client organization created');
        return client;
      }),

    /**
     * Devices across every organization the caller may enter (own and clients), a page at a time,
     * with counts per organization and status. Organizations whose two-factor rule the caller does
     * not meet are left out, as the switcher would refuse them.
     */
    fleet: userProcedure('viewer')
      .input(fleetInput.default({ limit: 50, offset: 0 }))
      .query(async ({ ctx, input }) => {
        const organizations = (await enterableOrganizations(deps.db, ctx.user.userId)).filter((entry) => !entry.needsSecondFactor);
        const ids = organizations.map((entry) => entry.organizationId);
        const [devices, counts] = await Promise.all([fleetPage(deps.db, ids, input), fleetCounts(deps.db, ids)]);
        const perOrganization = organizations.map((entry) => {
          const mine = counts.filter((row) => row.organizationId === entry.organizationId);
          const of = (status: string) => mine.filter((row) => row.status === status).reduce((sum, row) => sum + row.n, 0);
          return {
            organizationId: entry.organizationId, name: entry.name, role: entry.role,
            devices: mine.reduce((sum, row) => sum + row.n, 0), online: of('online'), offline: of('offline'),
          };
        });
        const total = input.status === undefined
          ? perOrganization.reduce((sum, row) => sum + row.devices, 0)
          : counts.filter((row) => row.status === input.status).reduce((sum, row) => sum + row.n, 0);
        return { devices, organizations: perOrganization, total, limit: input.limit, offset: input.offset };
      }),
  });
}
