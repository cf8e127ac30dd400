import { sql } from 'kysely';
import { typed, type RelationalStore, type SqlExecutor } from '../../stores/relational/index.ts';
import { AppError, isUniqueViolation } from '../../platform/errors.ts';
import { insertUser, type NewUser, type User } from '../auth/index.ts';
import { isUuid } from '@ninjait/shared';

export interface Organization {
  id: string;
  name: string;
  createdAt: Date;
}

/** An organization as the console's organizations page lists it. */
export interface OrganizationSummary extends Organization {
  people: number;
  devices: number;
}

const COLUMNS = ['id', 'name', 'createdAt'] as const;

/** Where a new organization stands: a provider of clients, or a client of `providerId` (features/providers). */
export interface Placement {
  isProvider?: boolean | undefined;
  providerId?: string | undefined;
}

export async function createOrganization(db: SqlExecutor, name: string, placement: Placement = {}): Promise<Organization> {
  try {
    return await typed(db).insertInto('organizations')
      .values({ name, isProvider: placement.isProvider ?? false, providerId: placement.providerId ?? null })
      .returning(COLUMNS).executeTakeFirstOrThrow();
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError('CONFLICT', `An organization named "${name}" already exists`);
    throw error;
  }
}

/**
 * A new organization and the first person in it, together or not at all: an organization nobody
 * can log in to helps no one. The password is hashed before, so the transaction stays short.
 */
export async function createOrganizationWithPerson(db: RelationalStore, name: string, person: Omit<NewUser, 'organizationId'> & { passwordHash: string },
  placement: Placement = {}): Promise<{ organization: Organization; person: User }> {
  return db.transaction(async (tx) => {
    const organization = await createOrganization(tx, name, placement);
    return { organization, person: await insertUser(tx, { ...person, organizationId: organization.id }) };
  });
}

export async function listOrganizations(db: SqlExecutor): Promise<Organization[]> {
  // Oldest first; the first is the install's own organization (see installOrganizationId).
  return typed(db).selectFrom('organizations').select(COLUMNS).orderBy('createdAt').orderBy('id').execute();
}

/**
 * Organizations with how many people and devices each has, oldest first; `onlyId` narrows it to
 * one, `clientsOf` to a provider's clients (by name, as the provider's Clients page lists them).
 */
export async function listOrganizationSummaries(db: SqlExecutor, onlyId?: string, clientsOf?: string): Promise<OrganizationSummary[]> {
  return typed(db).selectFrom('organizations as o')
    .select(['o.id', 'o.name', 'o.createdAt'])
    .select((eb) => [
      eb.selectFrom('users as u').select(sql<number>`count(*)::int`.as('n'))
        .whereRef('u.organizationId', '=', 'o.id').where('u.removedAt', 'is', null).$asScalar().as('people'),
      eb.selectFrom('devices as d').select(sql<number>`count(*)::int`.as('n'))
        .whereRef('d.organizationId', '=', 'o.id').where('d.decommissionedAt', 'is', null).$asScalar().as('devices'),
    ])
    .$if(onlyId !== undefined, (query) => query.where('o.id', '=', onlyId!))
    .$if(clientsOf !== undefined, (query) => query.where('o.providerId', '=', clientsOf!).orderBy('o.name'))
    .orderBy('o.createdAt').orderBy('o.id')
    .execute();
}

/**
 * The install's own organization: the first one created, where `npm start` puts the first owner
 * and the local agent. Its owners run the server, so they may see and create every organization
 * and read the server's health; every other organization is a tenant that sees only itself.
 */
export async function installOrganizationId(db: SqlExecutor): Promise<string | null> {
  const first = await typed(db).selectFrom('organizations').select('id').orderBy('createdAt').orderBy('id').limit(1).executeTakeFirst();
  return first?.id ?? null;
}

/** Whether people of `organizationId` run this server (see installOrganizationId). */
export async function runsInstall(db: SqlExecutor, organizationId: string): Promise<boolean> {
  return (await installOrganizationId(db)) === organizationId;
}

/** Refuses, in plain words, what only the people who run this server may do. */
export async function assertRunsInstall(db: SqlExecutor, organizationId: string, what: string): Promise<void> {
  if (!(await runsInstall(db, organizationId))) {
    throw new AppError('FORBIDDEN', `Only the people who run this server can ${what}; ask them if you need it`);
  }
}

export async function organizationName(db: SqlExecutor, id: string): Promise<string | null> {
  const row = await typed(db).selectFrom('organizations').select('name').where('id', '=', id).executeTakeFirst();
  return row?.name ?? null;
}

/** Finds by id or by name (case-insensitive), for the CLI's `--org`. */
export async function findOrganization(db: SqlExecutor, idOrName: string): Promise<Organization | null> {
  const row = await typed(db).selectFrom('organizations').select(COLUMNS)
    .where((eb) => (isUuid(idOrName) ? eb('id', '=', idOrName) : eb(eb.fn('lower', ['name']), '=', idOrName.toLowerCase())))
    .executeTakeFirst();
  return row ?? null;
}
