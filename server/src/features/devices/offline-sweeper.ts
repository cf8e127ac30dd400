import { OFFLINE_AFTER_INTERVALS } from '@ninjait/shared';
import type { RelationalStore } from '../../stores/relational/index.ts';
import { noEvents, type EventPublisher } from '../events/index.ts';

/**
 * How long device `d` may stay quiet before it counts as offline, as SQL: the device's own
 * `offlineThresholdMinutes` setting, else its organization's, else OFFLINE_AFTER_INTERVALS (bound
 * to `param`) of the device's reporting interval. Settings are validated on write; the JSON
 * type is checked again so a hand-edited row cannot fail the sweep.
 */
export function offlineAfterSql(param: string): string {
  if (!/^\$\d{1,2}$/.test(param)) throw new Error(`Not a query parameter: ${param}`);
  const minutes = (table: string, key: string) =>
    `(SELECT make_interval(secs => (s.settings->>'offlineThresholdMinutes')::float8 * 60) FROM ${table} s
       WHERE ${key} AND jsonb_typeof(s.settings->'offlineThresholdMinutes') = 'number')`;
  return `COALESCE(${minutes('device_settings', 's.device_id = d.id')},
    ${minutes('organization_settings', 's.organization_id = d.organization_id')},
    make_interval(secs => d.report_interval_ms * ${param} / 1000.0))`;
}

/**
 * Marks devices offline once they have been quiet past their threshold (offlineAfterSql),
 * publishing `device.offline` in the same transaction (the last-seen time makes each outage one event).
 */
export async function markQuietDevicesOffline(db: RelationalStore, events: EventPublisher = noEvents): Promise<{ id: string; organizationId: string }[]> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ id: string; organizationId: string; name: string; lastSeen: Date }>(
      `UPDATE devices d SET status = 'offline'
       WHERE d.status = 'online' AND d.last_seen < NOW() - ${offlineAfterSql('$1')}
       RETURNING d.id, d.organization_id AS "organizationId", d.name, d.last_seen AS "lastSeen"`,
      [OFFLINE_AFTER_INTERVALS],
    );
    for (const device of rows) {
      const lastSeen = new Date(device.lastSeen).toISOString();
      await events.publish(tx, { type: 'device.offline', organizationId: device.organizationId, source: `${device.id}:${lastSeen}`, data: { device: { id: device.id, name: device.name, lastSeen } } });
    }
    return rows.map(({ id, organizationId }) => ({ id, organizationId }));
  });
}
