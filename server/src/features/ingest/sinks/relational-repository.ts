import { sql } from 'kysely';
import { OFFLINE_AFTER_INTERVALS } from '@ninjait/shared';
import { compileOnce, type SqlExecutor } from '../../../stores/relational/index.ts';
import { offlineAfter } from '../../devices/index.ts';

/** What a batch says of one device: when it was last seen and from where, and its latest inventory's fields. */
export interface SeenDevice {
  id: string;
  /** ISO time of its latest sample, or null (an inventory only). */
  seen: string | null;
  ip: string | null;
  osType?: string;
  osVersion?: string;
  inventory?: unknown;
  version?: string;
  name?: string;
}

/**
 * Applies a batch's devices in one statement (the rows travel as one JSON parameter) and returns
 * each with the status it had before (`previous`), as `online` when it was and still is.
 * Idempotent: `GREATEST` and overwrites give the same row however often a batch is replayed.
 */
// The batch's rows as one JSON parameter, and the offline threshold's intervals: the statement's
// two parameters, in this order (compileOnce checks it). Compiled once: it runs on every batch.
const ROWS_JSON = '';
const INTERVALS = OFFLINE_AFTER_INTERVALS;
const UPDATE_SEEN_DEVICES = compileOnce((db) => {
  const u = sql<{ id: string; seen: Date | null; ip: string | null; osType: string | null; osVersion: string | null; inventory: unknown; version: string | null; name: string | null }>`
    jsonb_to_recordset(${ROWS_JSON}::jsonb)`.as<'u'>(sql`u(id uuid, seen timestamptz, ip text, os_type text, os_version text, inventory jsonb, version text, name text)`);
  return db
    .with('u', (q) => q.selectFrom(u).selectAll())
    .with('before', (q) => q.selectFrom('devices as d').innerJoin('u', 'u.id', 'd.id').select(['d.id', 'd.status']))
    .updateTable('devices as d')
    .from('u').innerJoin('before', 'before.id', 'u.id')
    .set((eb) => ({
      lastSeen: eb.fn('greatest', ['d.lastSeen', 'u.seen']),
      // A sample older than the offline sweeper's threshold does not bring a device back online: the same threshold.
      status: eb.case().when('d.decommissionedAt', 'is not', null).then(eb.ref('d.status'))
        .when('u.seen', '>', sql<Date>`NOW() - ${offlineAfter(INTERVALS)}`).then(sql.lit('online'))
        .else(eb.ref('d.status')).end(),
      ipAddress: eb.fn.coalesce(sql<string | null>`${eb.ref('u.ip')}::inet`, 'd.ipAddress'),
      osType: eb.fn.coalesce('u.osType', 'd.osType'),
      osVersion: eb.fn.coalesce('u.osVersion', 'd.osVersion'),
      // JSON to JSON: the schema types a written JSON value as text, which this one never was.
      inventory: eb.fn.coalesce('u.inventory', 'd.inventory').$castTo<string>(),
      agentVersion: eb.fn.coalesce('u.version', 'd.agentVersion'),
      name: eb.fn.coalesce('u.name', 'd.name'),
    }))
    .whereRef('d.id', '=', 'u.id')
    .returning((eb) => [
      'd.id', 'd.organizationId', 'd.name', 'd.lastSeen',
      eb.case().when('d.status', '=', sql.lit('online')).then(eb.ref('before.status')).else(sql.lit('online')).end().as('previous'),
    ]);
}, [ROWS_JSON, INTERVALS]);

/** A device the batch updated, with the status it had before (`previous`). */
export interface SeenDeviceRow { id: string; organizationId: string; name: string; lastSeen: Date; previous: string }

export async function updateSeenDevices(tx: SqlExecutor, devices: readonly SeenDevice[]): Promise<SeenDeviceRow[]> {
  // The recordset's columns are snake_case like every column the typed query names.
  const json = JSON.stringify(devices.map((device) => ({
    id: device.id, seen: device.seen, ip: device.ip, os_type: device.osType, os_version: device.osVersion,
    inventory: device.inventory, version: device.version, name: device.name,
  })));
  const { rows } = await tx.query<{ id: string; organization_id: string; name: string; last_seen: Date; previous: string }>(UPDATE_SEEN_DEVICES, [json, OFFLINE_AFTER_INTERVALS]);
  return rows.map((row) => ({ id: row.id, organizationId: row.organization_id, name: row.name, lastSeen: row.last_seen, previous: row.previous }));
}
