import type { Logger } from '../../platform/obs/logger.ts';
import type { Job } from '../../platform/scheduler/scheduler.ts';
import type { CacheStore } from '../../stores/cache/index.ts';
import { invalidateDeviceLists } from '../../stores/cache/keys.ts';
import type { RelationalStore } from '../../stores/relational/index.ts';
import type { EventPublisher } from '../events/index.ts';
import { markQuietDevicesOffline } from './offline-sweeper.ts';

const OFFLINE_SWEEP_MS = 5_000;

/** Devices that stopped reporting go offline; the lists of their organizations are refreshed. */
export function deviceJobs(deps: { db: RelationalStore; cache: CacheStore; log: Logger; events: EventPublisher }): Job[] {
  const { db, cache, log, events } = deps;
  return [{
    name: 'offline-sweeper',
    everyMs: OFFLINE_SWEEP_MS,
    async run() {
      const offline = await markQuietDevicesOffline(db, events);
      if (offline.length > 0) log.info({ count: offline.length }, 'devices went offline');
      await invalidateDeviceLists(cache, offline.map((device) => device.organizationId));
    },
  }];
}
