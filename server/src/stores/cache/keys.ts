import type { CacheStore } from './types.ts';

// The cache's key registry: the cache sink writes these keys and the device pages read them,
// so their names live here, not in either of them.

/** The latest sample of a device (JSON), written by the cache sink. */
export const latestKey = (deviceId: string) => `device:latest:${deviceId}`;
/** The organization's device counts by status and OS (devices.counts, list totals), cached DEVICE_LIST_TTL_SEC; dropped when devices change. */
export const deviceListKey = (organizationId: string) => `api:devices:${organizationId}`;
/** Short: a device coming back online is not an invalidation (the relational sink sets it), so counts may lag this long. */
export const DEVICE_LIST_TTL_SEC = 10;
/** Devices ranked by uptime in seconds, per organization (the strategy's `uptime:leaderboard`). */
export const uptimeLeaderboardKey = (organizationId: string) => `uptime:leaderboard:${organizationId}`;
/** Devices ranked by their latest CPU load (percent), per organization: the overview's "top CPU" without reading every sample. */
export const cpuLeaderboardKey = (organizationId: string) => `cpu:leaderboard:${organizationId}`;

/** Drops the cached device lists of these organizations; a failure only leaves them until their TTL. */
export async function invalidateDeviceLists(cache: CacheStore, organizationIds: Iterable<string>): Promise<void> {
  const keys = [...new Set(organizationIds)].map(deviceListKey);
  if (keys.length > 0) await cache.del(keys);
}
