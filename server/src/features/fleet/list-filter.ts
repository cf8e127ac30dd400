import type { DeviceFieldFilter } from '@ninjait/shared';
import { typed, type SqlExecutor } from '../../stores/relational/index.ts';
import { getGroup, matchingDeviceIds } from './groups.ts';
import { getSite } from './sites.ts';
import type { GroupCondition, GroupFilter } from './schemas.ts';

/**
 * Devices a bulk job may reach in a site or group: those an admin has let in (one waiting for
 * approval is left out rather than failing the whole job).
 */
export async function jobTargetIds(db: SqlExecutor, organizationId: string, target: { siteId?: string | undefined; groupId?: string | undefined; tagId?: string | undefined }): Promise<string[]> {
  // A site of another organization is not found, as a group is, rather than an empty target.
  if (target.siteId) await getSite(db, organizationId, target.siteId);
  const ids = (await fleetFilterDeviceIds(db, organizationId, target)) ?? [];
  if (ids.length === 0) return [];
  const approved = await typed(db).selectFrom('devices').select('id').where('organizationId', '=', organizationId)
    .where('approvalState', '=', 'approved').where('id', 'in', ids).execute();
  return approved.map((row) => row.id);
}

/** The fleet table's structure filters; each one narrows the others. */
export interface FleetListFilter {
  siteId?: string | undefined;
  tagId?: string | undefined;
  groupId?: string | undefined;
  field?: DeviceFieldFilter | undefined;
}

export const hasFleetFilter = (filter: FleetListFilter) =>
  filter.siteId !== undefined || filter.tagId !== undefined || filter.groupId !== undefined || filter.field !== undefined;

/**
 * The ids of the organization's devices that pass the fleet table's structure filters, or null
 * when none is set. A group of another organization is not found; a site, tag or field of another
 * organization simply matches nothing.
 */
export async function fleetFilterDeviceIds(db: SqlExecutor, organizationId: string, filter: FleetListFilter): Promise<string[] | null> {
  if (!hasFleetFilter(filter)) return null;
  const conditions: GroupCondition[] = [
    ...(filter.siteId ? [{ kind: 'site', op: 'equals', siteId: filter.siteId } as const] : []),
    ...(filter.tagId ? [{ kind: 'tag', op: 'has', tagId: filter.tagId } as const] : []),
    ...(filter.field ? [{ kind: 'field', ...filter.field } as const] : []),
  ];
  const direct: GroupFilter = { match: 'all', conditions };
  if (!filter.groupId) return matchingDeviceIds(db, organizationId, direct);
  const group = await getGroup(db, organizationId, filter.groupId);
  const members = await matchingDeviceIds(db, organizationId, group.filter);
  if (conditions.length === 0 || members.length === 0) return members;
  return matchingDeviceIds(db, organizationId, direct, members);
}
