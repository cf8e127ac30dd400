import type { CacheStore } from '../../stores/cache/index.ts';
import { latestKey } from '../../stores/cache/keys.ts';
import type { Device } from './devices.ts';

/** Adds each device's latest values from the cache (one MGET for the whole list); a cache that is down leaves them null. */
export async function withLatest<D extends Device>(deps: { cache: CacheStore }, devices: D[]) {
  const latest = await deps.cache.mget(devices.map((device) => latestKey(device.id))).catch(() => devices.map(() => null));
  return devices.map((device, i) => ({ ...device, latest: latest[i] ? (JSON.parse(latest[i]) as Record<string, unknown>) : null }));
}
