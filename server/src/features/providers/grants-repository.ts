import { sql } from 'kysely';
import { typed, type SqlExecutor } from '../../stores/relational/index.ts';

/** A provider person's explicit role in one of the provider's clients (a `memberships` row away from home). */
export interface Grant {
  userId: string;
  email: string;
  name: string | null;
  clientId: string;
  clientName: string;
  role: string;
  createdAt: Date;
}

/**
 * The grants into this provider's clients: memberships in its clients held by people whose home is
 * elsewhere (a client's own people are the client's, not grants). Removed people hold none.
 */
export async function listGrants(db: SqlExecutor, providerId: string, filter: { clientId?: string | undefined } = {}): Promise<Grant[]> {
  return typed(db).selectFrom('memberships as m')
    .innerJoin('organizations as c', 'c.id', 'm.organizationId')
    .innerJoin('users as u', 'u.id', 'm.userId')
    .select(['m.userId', 'u.email', 'u.name', 'c.id as clientId', 'c.name as clientName', 'm.role', 'm.createdAt'])
    .where('c.providerId', '=', providerId)
    .where((eb) => eb.or([eb('u.organizationId', 'is', null), eb('u.organizationId', '!=', eb.ref('m.organizationId'))]))
    .where('u.removedAt', 'is', null)
    .$if(filter.clientId !== undefined, (query) => query.where('c.id', '=', filter.clientId!))
    .orderBy('c.name').orderBy('u.email')
    .execute() as Promise<Grant[]>;
}

/** The client when it is one of this provider's, else undefined (another provider's client finds nothing). */
export async function findClient(db: SqlExecutor, providerId: string, clientId: string) {
  return typed(db).selectFrom('organizations').select(['id', 'name'])
    .where('id', '=', clientId).where('providerId', '=', providerId).executeTakeFirst();
}

/**
 * A person of this provider (a membership there, not removed), found by id or email, with their home
 * organization: only the provider's own people can be granted into its clients.
 */
export async function findProviderPerson(db: SqlExecutor, providerId: string, who: { userId: string } | { email: string }) {
  return typed(db).selectFrom('memberships as m')
    .innerJoin('users as u', 'u.id', 'm.userId')
    .select(['u.id', 'u.email', 'u.organizationId'])
    .where('m.organizationId', '=', providerId).where('u.removedAt', 'is', null)
    .$if('userId' in who, (query) => query.where('u.id', '=', (who as { userId: string }).userId))
    .$if('email' in who, (query) => query.where(sql<string>`u.email`, '=', sql<string>`lower(${(who as { email: string }).email})`))
    .executeTakeFirst();
}

/** Gives or changes the person's role in the client; returns the role it replaced (null for a new grant). */
export async function upsertGrant(db: SqlExecutor, userId: string, clientId: string, role: string): Promise<string | null> {
  const before = await typed(db).selectFrom('memberships').select('role')
    .where('userId', '=', userId).where('organizationId', '=', clientId).executeTakeFirst();
  await typed(db).insertInto('memberships').values({ userId, organizationId: clientId, role })
    .onConflict((conflict) => conflict.columns(['userId', 'organizationId']).doUpdateSet({ role })).execute();
  return before?.role ?? null;
}

/** Ends the person's membership in the client; the role it had, or null when there was none. */
export async function deleteGrant(db: SqlExecutor, userId: string, clientId: string): Promise<string | null> {
  const row = await typed(db).deleteFrom('memberships')
    .where('userId', '=', userId).where('organizationId', '=', clientId).returning('role').executeTakeFirst();
  return row?.role ?? null;
}
