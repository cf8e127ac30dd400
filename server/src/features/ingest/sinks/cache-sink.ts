import type { CacheStore } from '../../../stores/cache/index.ts';
import { cpuLeaderboardKey, invalidateDeviceLists, latestKey, uptimeLeaderboardKey } from '../../../stores/cache/keys.ts';
import { failure, success, latestPerDevice, type Sink } from './types.ts';
import { finiteNumber, splitStorable, storablePercent } from './values.ts';

/** Latest values outlive a quiet device by a day, then the device page falls back to history. */
const LATEST_TTL_SEC = 24 * 60 * 60;

/** The latest values per device, one overwrite each: replays are harmless. */
export function createCacheSink(cache: CacheStore): Sink {
  return {
    name: 'cache',
    async init() {},
    async write(batch) {
      try {
        const { storable, rejected } = splitStorable(batch);
        const latest = latestPerDevice(storable, 'sample');
        // Inventory changes a device's name and OS: the cached lists of its organization are stale.
        const changedOrgs = new Set([...latestPerDevice(storable, 'inventory').values()].map((row) => row.organizationId));
        await invalidateDeviceLists(cache, changedOrgs);
        if (latest.size === 0) return success(rejected);
        // Only over an older value: rows can arrive out of order (a JetStream log shares a sink's
        // rows among instances and redelivers failed ones later).
        // A logged row's payload is parsed at each read (log-repository.ts): once per row here.
        const newest = [...latest.values()].map((row) => ({ row, payload: row.payload }));
        const entries = newest.map(({ row, payload }) => [
          latestKey(row.deviceId),
          JSON.stringify({ seq: row.seq, collectedAt: row.collectedAt.toISOString(), ...payload }),
          row.seq,
        ] as const);
        await cache.msetIfNewer(entries, LATEST_TTL_SEC);
        // Overwrites with the newest uptime and CPU per device: replays leave the same scores.
        const byOrg = new Map<string, { uptime: [number, string][]; cpu: [number, string][] }>();
        for (const { row, payload } of newest) {
          const ranked = byOrg.get(row.organizationId) ?? { uptime: [], cpu: [] };
          ranked.uptime.push([finiteNumber(payload.uptimeSec), row.deviceId]);
          ranked.cpu.push([storablePercent(payload.cpu.loadPercent), row.deviceId]);
          byOrg.set(row.organizationId, ranked);
        }
        await Promise.all([...byOrg].flatMap(([organizationId, ranked]) => [
          cache.zadd(uptimeLeaderboardKey(organizationId), ranked.uptime),
          cache.zadd(cpuLeaderboardKey(organizationId), ranked.cpu),
        ]));
        return success(rejected);
      } catch (error) {
        return failure(error);
      }
    },
    health: () => cache.health(),
    async close() {},
  };
}
