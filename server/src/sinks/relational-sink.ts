import type { RelationalStore } from '../stores/relational/index.ts';
import { osFields } from '../domain/devices.ts';
import { failure, latestPerDevice, type Sink } from './types.ts';

/**
 * Keeps `devices` current: last seen, status, address, OS and inventory. Idempotent:
 * `GREATEST` and overwrites give the same row however often a batch is replayed.
 */
export function createRelationalSink(db: RelationalStore): Sink {
  return {
    name: 'relational',
    async init() {},
    async write(batch) {
      const samples = latestPerDevice(batch, 'sample');
      const inventories = latestPerDevice(batch, 'inventory');
      const ids = new Set([...samples.keys(), ...inventories.keys()]);
      const updates = [...ids].map((id) => {
        const sample = samples.get(id);
        const inventory = inventories.get(id)?.payload;
        return {
          id,
          seen: sample?.collectedAt.toISOString() ?? null,
          ip: sample?.sourceIp ?? null,
          ...(inventory ? { ...osFields(inventory), inventory, version: inventory.agentVersion, name: inventory.hostname } : {}),
        };
      });
      if (updates.length === 0) return { ok: true };
      try {
        await db.query(
          `UPDATE devices d SET
             last_seen = GREATEST(d.last_seen, u.seen),
             status = CASE WHEN d.decommissioned_at IS NOT NULL THEN d.status
                           WHEN u.seen > NOW() - make_interval(secs => d.report_interval_ms * 3 / 1000.0) THEN 'online'
                           ELSE d.status END,
             ip_address = COALESCE(u.ip::inet, d.ip_address),
             os_type = COALESCE(u."osType", d.os_type),
             os_version = COALESCE(u."osVersion", d.os_version),
             inventory = COALESCE(u.inventory, d.inventory),
             agent_version = COALESCE(u.version, d.agent_version),
             name = COALESCE(u.name, d.name)
           FROM jsonb_to_recordset($1::jsonb) AS u(id uuid, seen timestamptz, ip text, "osType" text, "osVersion" text,
             inventory jsonb, version text, name text)
           WHERE d.id = u.id`,
          [JSON.stringify(updates)],
        );
        return { ok: true };
      } catch (error) {
        return failure(error);
      }
    },
    health: () => db.health(),
    async close() {},
  };
}
