import { OFFLINE_AFTER_INTERVALS } from '@ninjait/shared';
import type { RelationalStore } from '../../stores/relational/index.ts';
import { noEvents, type EventPublisher } from '../events/index.ts';

/**
 * Marks devices offline after they missed OFFLINE_AFTER_INTERVALS of their own reporting interval,
 * publishing `device.offline` in the same transaction (the last-seen time makes each outage one event).
 */
export async function markQuietDevicesOffline(db: RelationalStore, events: EventPublisher = noEvents): Promise<{ id: string; organizationId: string }[]> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ id: string; organizationId: string; name: string; lastSeen: Date }>(
      `UPDATE devices SET status = 'offline'
       WHERE status = 'online' AND last_seen < NOW() - make_interval(secs => report_interval_ms * $1 / 1000.0)
       RETURNING id, organization_id AS "organizationId", name, last_seen AS "lastSeen"`,
      [OFFLINE_AFTER_INTERVALS],
    );
    for (const device of rows) {
      const lastSeen = new Date(device.lastSeen).toISOString();
      await events.publish(tx, { type: 'device.offline', organizationId: device.organizationId, source: `${device.id}:${lastSeen}`, data: { device: { id: device.id, name: device.name, lastSeen } } });
    }
    return rows.map(({ id, organizationId }) => ({ id, organizationId }));
  });
}
