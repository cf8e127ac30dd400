import { sql } from 'kysely';
import { typed, type SqlExecutor } from '../../stores/relational/index.ts';
import { notFound } from '../../platform/errors.ts';
import { assertBelow, assertDevice, uniqueName } from './device-ref.ts';
import { MAX_SITES, type SiteFields } from './schemas.ts';

export interface Site extends SiteFields {
  id: string;
  createdAt: Date;
  updatedAt: Date;
}

const COLUMNS = ['id', 'name', 'address', 'notes', 'timezone', 'createdAt', 'updatedAt'] as const;

/** The organization's sites by name, with how many (active) devices each holds. */
export async function listSites(db: SqlExecutor, organizationId: string): Promise<(Site & { devices: number })[]> {
  return typed(db).selectFrom('sites as s').select(COLUMNS.map((column) => `s.${column}` as const))
    .select((eb) => eb.selectFrom('devices as d').select(sql<number>`count(*)::int`.as('n'))
      .whereRef('d.siteId', '=', 's.id').where('d.decommissionedAt', 'is', null).$asScalar().as('devices'))
    .where('s.organizationId', '=', organizationId).orderBy(sql`lower(s.name)`).execute();
}

export async function getSite(db: SqlExecutor, organizationId: string, id: string): Promise<Site> {
  const site = await typed(db).selectFrom('sites').select(COLUMNS).where('id', '=', id).where('organizationId', '=', organizationId).executeTakeFirst();
  if (!site) throw notFound('Site');
  return site;
}

export async function createSite(db: SqlExecutor, organizationId: string, fields: SiteFields): Promise<Site> {
  await assertBelow(typed(db).selectFrom('sites').select(sql<number>`count(*)::int`.as('n')).where('organizationId', '=', organizationId).executeTakeFirst(), MAX_SITES, 'sites');
  return uniqueName('site', fields.name, () => typed(db).insertInto('sites').values({ organizationId, ...fields }).returning(COLUMNS).executeTakeFirstOrThrow());
}

export async function updateSite(db: SqlExecutor, organizationId: string, id: string, changes: Partial<SiteFields>): Promise<Site> {
  const site = await uniqueName('site', changes.name ?? '', () => typed(db).updateTable('sites').set({ ...changes, updatedAt: sql`NOW()` })
    .where('id', '=', id).where('organizationId', '=', organizationId).returning(COLUMNS).executeTakeFirst());
  if (!site) throw notFound('Site');
  return site;
}

/** Its devices stay, without a site (the foreign key clears only `site_id`). */
export async function deleteSite(db: SqlExecutor, organizationId: string, id: string): Promise<Site> {
  const site = await typed(db).deleteFrom('sites').where('id', '=', id).where('organizationId', '=', organizationId).returning(COLUMNS).executeTakeFirst();
  if (!site) throw notFound('Site');
  return site;
}

/** Puts a device on a site (null: on none). Both must be the organization's. */
export async function setDeviceSite(db: SqlExecutor, organizationId: string, deviceId: string, siteId: string | null): Promise<void> {
  await assertDevice(db, organizationId, deviceId);
  if (siteId) await getSite(db, organizationId, siteId);
  await typed(db).updateTable('devices').set({ siteId }).where('id', '=', deviceId).where('organizationId', '=', organizationId).execute();
}

/** The site of the organization's device (null: none); NOT_FOUND for another organization's device. */
export async function deviceSiteId(db: SqlExecutor, organizationId: string, deviceId: string): Promise<string | null> {
  const row = await typed(db).selectFrom('devices').select('siteId').where('id', '=', deviceId).where('organizationId', '=', organizationId).executeTakeFirst();
  if (!row) throw notFound('Device');
  return row.siteId;
}

/** Finds by id or by name (case-insensitive), for the CLI. */
export async function findSite(db: SqlExecutor, organizationId: string, ref: string): Promise<Site> {
  const site = await typed(db).selectFrom('sites').select(COLUMNS).where('organizationId', '=', organizationId)
    .where((eb) => eb.or([eb(sql`id::text`, '=', ref), eb(sql`lower(name)`, '=', ref.toLowerCase())])).executeTakeFirst();
  if (!site) throw notFound(`Site "${ref}"`);
  return site;
}
