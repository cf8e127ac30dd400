import type { CacheStore } from '../stores/cache/index.ts';
import { failure, latestPerDevice, type Sink } from './types.ts';

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
/** Latest values outlive a quiet device by a day, then the device page falls back to history. */
const LATEST_TTL_SEC = 24 * 60 * 60;

/** The latest values per device, one overwrite each: replays are harmless. */
export function createCacheSink(cache: CacheStore): Sink {
  return {
    name: 'cache',
    async init() {},
    async write(batch) {
      const latest = latestPerDevice(batch, 'sample');
      // Inventory changes a device's name and OS: the cached lists of its organization are stale.
      const changedOrgs = new Set([...latestPerDevice(batch, 'inventory').values()].map((row) => row.organizationId));
      if (latest.size === 0 && changedOrgs.size === 0) return { ok: true };
      try {
        await invalidateDeviceLists(cache, changedOrgs);
        if (latest.size === 0) return { ok: true };
        const entries = [...latest.values()].map((row) => [
          latestKey(row.deviceId),
          JSON.stringify({ seq: row.seq, collectedAt: row.collectedAt.toISOString(), ...row.payload }),
        ] as const);
        await cache.mset(entries, LATEST_TTL_SEC);
        // Overwrites with the newest uptime and CPU per device: replays leave the same scores.
        const byOrg = new Map<string, { uptime: [number, string][]; cpu: [number, string][] }>();
        for (const row of latest.values()) {
          const ranked = byOrg.get(row.organizationId) ?? { uptime: [], cpu: [] };
          ranked.uptime.push([row.payload.uptimeSec, row.deviceId]);
          ranked.cpu.push([row.payload.cpu.loadPercent, row.deviceId]);
          byOrg.set(row.organizationId, ranked);
        }
        await Promise.all([...byOrg].flatMap(([organizationId, ranked]) => [
          cache.zadd(uptimeLeaderboardKey(organizationId), ranked.uptime),
          cache.zadd(cpuLeaderboardKey(organizationId), ranked.cpu),
        ]));
        return { ok: true };
      } catch (error) {
        return failure(error);
      }
    },
    health: () => cache.health(),
    async close() {},
  };
}
