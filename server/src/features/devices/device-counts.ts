import type { DeviceListQuery } from '@ninjait/shared';
import type { SqlExecutor } from '../../stores/relational/index.ts';

/** How many of an organization's devices have this status and OS type. */
export interface DeviceGroup {
  status: string;
  osType: string | null;
  /** Waiting for an admin's approval (absent in groups cached before the field existed). */
  awaitingApproval?: boolean;
  n: number;
}

export interface DeviceCounts {
  total: number;
  byStatus: Record<'online' | 'offline' | 'pending', number>;
  /** Operating systems present in the fleet, for the table's filter. */
  osTypes: string[];
  /** Devices waiting for an admin to approve, replace with or reject them. */
  awaitingApproval: number;
}

/** The fleet grouped by status and OS type: a few rows that answer every count the console shows. */
export async function groupDevices(db: SqlExecutor, organizationId: string): Promise<DeviceGroup[]> {
  const { rows } = await db.query<DeviceGroup>(
    `SELECT status, os_type AS "osType", approval_state = 'pending' AS "awaitingApproval", count(*)::int AS n FROM devices
     WHERE organization_id = $1 AND decommissioned_at IS NULL GROUP BY status, os_type, approval_state = 'pending'`,
    [organizationId],
  );
  return rows;
}

export function summarizeGroups(groups: readonly DeviceGroup[]): DeviceCounts {
  const counts: DeviceCounts = { total: 0, byStatus: { online: 0, offline: 0, pending: 0 }, osTypes: [], awaitingApproval: 0 };
  const osTypes = new Set<string>();
  for (const group of groups) {
    counts.total += group.n;
    if (group.status === 'online' || group.status === 'offline' || group.status === 'pending') counts.byStatus[group.status] += group.n;
    if (group.osType) osTypes.add(group.osType);
    if (group.awaitingApproval) counts.awaitingApproval += group.n;
  }
  counts.osTypes = [...osTypes].sort();
  return counts;
}

/** The devices a listing matches, when its filters are ones the groups answer (status, OS); else undefined. */
export function totalFromGroups(groups: readonly DeviceGroup[], query: Pick<DeviceListQuery, 'status' | 'osType' | 'search' | 'deviceIds'>): number | undefined {
  if (query.search || query.deviceIds) return undefined;
  return groups
    .filter((group) => (!query.status || group.status === query.status) && (!query.osType || group.osType === query.osType))
    .reduce((total, group) => total + group.n, 0);
}
