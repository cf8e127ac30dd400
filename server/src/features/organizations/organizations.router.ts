import { z } from 'zod';
import { hashPassword } from '../../platform/secrets.ts';
import { withPasswordGate, displayName, generatePassword } from '../auth/index.ts';
import { assertRunsInstall, createOrganizationWithPerson, listOrganizationSummaries, runsInstall } from './organizations.ts';
import { router, userProcedure } from '../../platform/trpc/trpc.ts';
import type { Audit } from '../audit/index.ts';
import type { RelationalStore } from '../../stores/relational/index.ts';

const newOrganizationSchema = z.object({
  name: displayName,
  /** The first person of the new organization, who then adds the others. */
  email: z.email().max(255),
  personName: displayName.optional(),
  role: z.enum(['owner', 'admin']).default('owner'),
  password: z.string().min(12, 'Passwords need at least 12 characters').max(1024).optional(),
  /** A provider (MSP): its admins create client organizations, its staff work in them (features/providers). */
  provider: z.boolean().default(false),
}).strict();

/** What these procedures use, built in the composition root (app/). */
export interface OrganizationsRouterDeps {
  audit: Audit;
  db: RelationalStore;
}

/**
 * Organizations as owners see them. A person belongs to one organization; the owners of the
 * install's own organization (the first one: features/organizations/organizations.ts installOrganizationId) run
 * the server, so they list every organization and create new ones. An owner of any other
 * organization sees only their own: tenants never learn of each other.
 */
export function createOrganizationsRouter(deps: OrganizationsRouterDeps) {
  return router({
    list: userProcedure('owner').query(async ({ ctx }) => {
      const all = await runsInstall(deps.db, ctx.user.organizationId);
      return listOrganizationSummaries(deps.db, all ? undefined : ctx.user.organizationId);
    }),

    /** A new organization and its first person; `initialPassword` is set when the server made one (shown once). */
    create: userProcedure('owner')
      .input(newOrganizationSchema)
      .mutation(async ({ ctx, input }) => {
        await assertRunsInstall(deps.db, ctx.user.organizationId, 'create organizations');
        const initialPassword = input.password ? null : generatePassword();
        const passwordHash = await withPasswordGate(ctx.ip, () => hashPassword(input.password ?? initialPassword!));
        const { organization, person } = await createOrganizationWithPerson(deps.db, input.name, {
          email: input.email, name: input.personName, role: input.role, passwordHash,
        }, { isProvider: input.provider });
        const details = { name: organization.name, firstPerson: person.email, role: person.role, provider: input.provider };
        await deps.audit(ctx, { action: 'organization.create', resourceId: organization.id, details });
        // The new organization's own log says where it came from, without the creator's id or address:
        // those belong to the organization that runs the server, which tenants never see.
        const byOperator = { ip: null };
        await deps.audit(byOperator, { action: 'organization.create', organizationId: organization.id, resourceId: organization.id, details: { ...details, by: 'operator' } });
        await deps.audit(byOperator, { action: 'user.create', organizationId: organization.id, resourceId: person.id, details: { email: person.email, name: person.name, role: person.role, by: 'operator' } });
        return { ...organization, firstPerson: { id: person.id, email: person.email, role: person.role }, initialPassword };
      }),
  });
}
