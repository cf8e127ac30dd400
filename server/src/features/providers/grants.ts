import type { Role } from '@ninjait/shared';
import { AppError, notFound } from '../../platform/errors.ts';
import type { SqlExecutor } from '../../stores/relational/index.ts';
import type { Audit, AuditWho } from '../audit/index.ts';
import { deleteGrant, findClient, findProviderPerson, upsertGrant } from './grants-repository.ts';

/** Roles a grant may carry: a provider administers its clients, it never owns them (as PROVIDER_ROLE_CAP). */
export const GRANT_ROLES = ['viewer', 'technician', 'admin'] as const satisfies readonly Role[];
export type GrantRole = (typeof GRANT_ROLES)[number];

/** What grant changes need: the store, ending sessions, and the audit log. */
export interface GrantDeps {
  db: SqlExecutor;
  sessions: { destroyAllFor(userId: string): Promise<void> };
  audit: Audit;
}

export type Grantee = { userId: string } | { email: string };

/** Who the grant names, and where: the provider's own person and the provider's own client, else NOT_FOUND. */
async function resolve(db: SqlExecutor, providerId: string, clientId: string, who: Grantee) {
  const client = await findClient(db, providerId, clientId);
  if (!client) throw notFound('Client organization');
  const person = await findProviderPerson(db, providerId, who);
  if (!person) throw notFound('Person of this provider');
  if (person.organizationId === client.id) {
    throw new AppError('CONFLICT', `${person.email} belongs to ${client.name} itself: change their role there, not by a grant`);
  }
  return { client, person };
}

/** Both organizations' logs record a grant change: the provider's (who did it) and the client's (who came in). */
async function auditBoth(deps: GrantDeps, ctx: AuditWho, providerId: string, clientId: string, action: string, details: Record<string, unknown>, resourceId: string) {
  await deps.audit(ctx, { action, organizationId: providerId, resourceId, details });
  await deps.audit(ctx, { action, organizationId: clientId, resourceId, details });
}

/**
 * Gives a person of the provider `role` in one of its clients, or changes the role of a grant.
 * Their sessions end, so no session keeps a role its memberships no longer say.
 */
export async function grantAccess(deps: GrantDeps, ctx: AuditWho, providerId: string, input: { clientId: string; role: GrantRole; who: Grantee; by?: string }) {
  const { client, person } = await resolve(deps.db, providerId, input.clientId, input.who);
  const from = await upsertGrant(deps.db, person.id, client.id, input.role);
  await deps.sessions.destroyAllFor(person.id);
  await auditBoth(deps, ctx, providerId, client.id, 'membership.grant', { email: person.email, clientId: client.id, client: client.name, role: input.role, from, ...(input.by ? { by: input.by } : {}) }, person.id);
  return { userId: person.id, email: person.email, clientId: client.id, clientName: client.name, role: input.role, from };
}

/**
 * Takes a grant back. The person's sessions end at once, open subscriptions included: one opened in
 * the client under the grant must not outlive it. What remains is what their provider role gives.
 */
export async function revokeAccess(deps: GrantDeps, ctx: AuditWho, providerId: string, input: { clientId: string; who: Grantee; by?: string }) {
  const { client, person } = await resolve(deps.db, providerId, input.clientId, input.who);
  const role = await deleteGrant(deps.db, person.id, client.id);
  if (role === null) throw notFound('Grant');
  await deps.sessions.destroyAllFor(person.id);
  await auditBoth(deps, ctx, providerId, client.id, 'membership.revoke', { email: person.email, clientId: client.id, client: client.name, role, ...(input.by ? { by: input.by } : {}) }, person.id);
  return { userId: person.id, email: person.email, clientId: client.id, role };
}
