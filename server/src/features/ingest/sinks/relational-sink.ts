import { osFields } from '../../devices/index.ts';
import type { RelationalStore } from '../../../stores/relational/index.ts';
import { noEvents, type EventPublisher } from '../../events/index.ts';
import { failure, success, latestPerDevice, type Sink } from './types.ts';
import { fitText, splitStorable } from './values.ts';
import { updateSeenDevices, type SeenDevice } from './relational-repository.ts';

/** Widths of the devices columns the inventory fills (migration 001); the schema's text limits are wider for some. */
const NAME_CHARS = 255;
const OS_TYPE_CHARS = 50;
const OS_VERSION_CHARS = 100;
const AGENT_VERSION_CHARS = 64;

/**
 * Keeps `devices` current: last seen, status, address, OS and inventory. Idempotent:
 * `GREATEST` and overwrites give the same row however often a batch is replayed. A device the
 * batch brings back online is published as `device.online` in the same transaction; a replay
 * finds it online already and publishes nothing.
 */
export function createRelationalSink(db: RelationalStore, events: EventPublisher = noEvents): Sink {
  return {
    name: 'relational',
    async init() {},
    async write(batch) {
      try {
        const { storable, rejected } = splitStorable(batch);
        const samples = latestPerDevice(storable, 'sample');
        const inventories = latestPerDevice(storable, 'inventory');
        const ids = new Set([...samples.keys(), ...inventories.keys()]);
        const updates = [...ids].map((id): SeenDevice => {
          const sample = samples.get(id);
          const inventory = inventories.get(id)?.payload;
          const os = inventory ? osFields(inventory) : null;
          return {
            id,
            seen: sample?.collectedAt.toISOString() ?? null,
            ip: sample?.sourceIp ?? null,
            ...(inventory && os ? {
              osType: fitText(os.osType, OS_TYPE_CHARS),
              osVersion: fitText(os.osVersion, OS_VERSION_CHARS),
              inventory,
              version: fitText(inventory.agentVersion, AGENT_VERSION_CHARS),
              name: fitText(inventory.hostname, NAME_CHARS),
            } : {}),
          };
        });
        if (updates.length === 0) return success(rejected);
        await db.transaction(async (tx) => {
          const rows = await updateSeenDevices(tx, updates);
          for (const device of rows.filter((row) => row.previous !== 'online')) {
            const lastSeen = new Date(device.lastSeen).toISOString();
            await events.publish(tx, { type: 'device.online', organizationId: device.organizationId, source: `${device.id}:${lastSeen}`, data: { device: { id: device.id, name: device.name, lastSeen } } });
          }
        });
        return success(rejected);
      } catch (error) {
        return failure(error);
      }
    },
    health: () => db.health(),
    async close() {},
  };
}
