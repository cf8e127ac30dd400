import type { CacheStore } from '../stores/cache/index.ts';
import { failure, latestPerDevice, type Sink } from './types.ts';

export const latestKey = (deviceId: string) => `device:latest:${deviceId}`;
/** Latest values outlive a quiet device by a day, then the device page falls back to history. */
const LATEST_TTL_SEC = 24 * 60 * 60;

/** The latest values per device, one overwrite each: replays are harmless. */
export function createCacheSink(cache: CacheStore): Sink {
  return {
    name: 'cache',
    async init() {},
    async write(batch) {
      const latest = latestPerDevice(batch, 'sample');
      if (latest.size === 0) return { ok: true };
      try {
        const entries = [...latest.values()].map((row) => [
          latestKey(row.deviceId),
          JSON.stringify({ seq: row.seq, collectedAt: row.collectedAt.toISOString(), ...row.payload }),
        ] as const);
        await cache.mset(entries, LATEST_TTL_SEC);
        return { ok: true };
      } catch (error) {
        return failure(error);
      }
    },
    health: () => cache.health(),
    async close() {},
  };
}
