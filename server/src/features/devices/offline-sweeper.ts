import { OFFLINE_AFTER_INTERVALS } from '@ninjait/shared';
import type { RelationalStore } from '../../stores/relational/index.ts';
import { noEvents, type EventPublisher } from '../events/index.ts';
import { markQuietOffline } from './repository.ts';

/**
 * Marks devices offline once they have been quiet past their threshold (repository's offlineAfterSql),
 * publishing `device.offline` in the same transaction (the last-seen time makes each outage one event).
 */
export async function markQuietDevicesOffline(db: RelationalStore, events: EventPublisher = noEvents): Promise<{ id: string; organizationId: string }[]> {
  return db.transaction(async (tx) => {
    const rows = await markQuietOffline(tx, OFFLINE_AFTER_INTERVALS);
    for (const device of rows) {
      const lastSeen = new Date(device.lastSeen).toISOString();
      await events.publish(tx, { type: 'device.offline', organizationId: device.organizationId, source: `${device.id}:${lastSeen}`, data: { device: { id: device.id, name: device.name, lastSeen } } });
    }
    return rows.map(({ id, organizationId }) => ({ id, organizationId }));
  });
}
