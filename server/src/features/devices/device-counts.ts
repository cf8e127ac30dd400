import type { DeviceListQuery } from '@ninjait/shared';
import type { DeviceGroup } from './repository.ts';

export { groupDevices, type DeviceGroup } from './repository.ts';

export interface DeviceCounts {
  total: number;
  byStatus: Record<'online' | 'offline' | 'pending', number>;
  /** Operating systems present in the fleet, for the table's filter. */
  osTypes: string[];
  /** Devices waiting for an admin to approve, replace with or reject them. */
  awaitingApproval: number;
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
