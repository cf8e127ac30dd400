import { sql } from 'kysely';
import { typed, type SqlExecutor } from '../../stores/relational/index.ts';
import { listOrganizationSummaries } from '../organizations/index.ts';

/** The install's own organization, the first created (as features/organizations installOrganizationId reads it). */
const FIRST_ORGANIZATION = sql<string>`(SELECT f.id FROM organizations f ORDER BY f.created_at, f.id LIMIT 1)`;

/** The person's own memberships (not removed), with each organization's name and its provider's name. */
export async function explicitMemberships(db: SqlExecutor, userId: string) {
  return typed(db).selectFrom('memberships as m')
    .innerJoin('users as u', 'u.id', 'm.userId')
    .innerJoin('organizations as o', 'o.id', 'm.organizationId')
    .leftJoin('organizations as p', 'p.id', 'o.providerId')
    .select(['m.organizationId', 'm.role', 'o.name', 'o.requireTwoFactor', 'p.name as providerName'])
    .select((eb) => eb.and([eb('o.providerId', 'is', null), eb.or([eb('o.isProvider', '=', true), eb('o.id', '=', FIRST_ORGANIZATION)])]).as('provider'))
    .where('m.userId', '=', userId).where('u.removedAt', 'is', null)
    .execute();
}

/** The clients of these organizations, for those of them that are providers (see `isProvider`). */
export async function providerClients(db: SqlExecutor, organizationIds: string[]) {
  if (organizationIds.length === 0) return [];
  return typed(db).selectFrom('organizations as c')
    .select(['c.id', 'c.name', 'c.requireTwoFactor', 'c.providerId as providerId'])
    .where('c.providerId', 'in', organizationIds)
    .$narrowType<{ providerId: string }>()
    .orderBy('c.name')
    .execute();
}

/**
 * Whether an organization serves clients: flagged by the people who run the server, or their own
 * organization (the first one), which is the MSP itself on a self-hosted install. A client is never one.
 */
export async function isProvider(db: SqlExecutor, organizationId: string): Promise<boolean> {
  const row = await typed(db).selectFrom('organizations as o')
    .select((eb) => eb.and([eb('o.providerId', 'is', null), eb.or([eb('o.isProvider', '=', true), eb('o.id', '=', FIRST_ORGANIZATION)])]).as('provider'))
    .where('o.id', '=', organizationId).executeTakeFirst();
  return row?.provider === true;
}

/** A provider's clients with how many people and devices each has, by name. */
export function listClients(db: SqlExecutor, providerId: string) {
  return listOrganizationSummaries(db, undefined, providerId);
}

/** One page of the devices of these organizations (decommissioned ones left out), by organization and name. */
export async function fleetPage(db: SqlExecutor, organizationIds: string[], page: { limit: number; offset: number; status?: string | undefined }) {
  if (organizationIds.length === 0) return [];
  return typed(db).selectFrom('devices as d')
    .innerJoin('organizations as o', 'o.id', 'd.organizationId')
    .select(['d.id', 'd.name', 'd.status', 'd.lastSeen', 'd.osType', 'd.agentVersion', 'o.id as organizationId', 'o.name as organizationName'])
    .where('d.organizationId', 'in', organizationIds).where('d.decommissionedAt', 'is', null)
    .$if(page.status !== undefined, (query) => query.where('d.status', '=', page.status!))
    .orderBy('o.name').orderBy('d.name').orderBy('d.id')
    .limit(page.limit).offset(page.offset)
    .execute();
}

/** Devices per organization and status (decommissioned ones left out). */
export async function fleetCounts(db: SqlExecutor, organizationIds: string[]) {
  if (organizationIds.length === 0) return [];
  return typed(db).selectFrom('devices as d')
    .select(['d.organizationId', 'd.status', sql<number>`count(*)::int`.as('n')])
    .where('d.organizationId', 'in', organizationIds).where('d.decommissionedAt', 'is', null)
    .groupBy(['d.organizationId', 'd.status'])
    .execute();
}
