import { z } from 'zod';
import type { DeviceListQuery, DeviceSortKey } from '@ninjait/shared';
import type { SqlExecutor } from '../../stores/relational/index.ts';
import { AppError } from '../../platform/errors.ts';
import { fleetFilterDeviceIds, tagNamesByDevice } from '../fleet/index.ts';
import type { Device } from './devices.ts';
import { credentialRefusalSql, toCredentialRefusal, type CredentialRefusal } from './credential-refusals.ts';

/** What the fleet table shows of a device; latest values are added by the caller from the cache. */
export interface DeviceRow {
  id: string;
  name: string;
  status: Device['status'];
  osType: string | null;
  osVersion: string | null;
  ipAddress: string | null;
  lastSeen: string | null;
  agentVersion: string | null;
}

/** Set on a device waiting for an admin: why, and which known device it claims to be. */
export interface PendingApproval {
  reason: string | null;
  claimsDeviceId: string | null;
  claimsDeviceName: string | null;
}

/**
 * Where the row's address comes from: the agent's own report of its primary interface, or
 * (older agents) the address its last connection came from, which behind NAT or a proxy is
 * not the machine's.
 */
export type AddressSource = 'interface' | 'connection';

/** The address people see for a device: its own report of its primary interface first. */
export function deviceAddress(reported: string | null | undefined, connection: string | null): { address: string | null; addressSource: AddressSource | null } {
  if (reported) return { address: reported, addressSource: 'interface' };
  return { address: connection, addressSource: connection ? 'connection' : null };
}

/** A row of the fleet table: a device, its approval when it waits for one, and refused credentials. */
export interface DeviceListItem extends DeviceRow {
  pendingApproval: PendingApproval | null;
  /** The primary interface's address from the inventory, else the connection's (see `addressSource`). */
  address: string | null;
  addressSource: AddressSource | null;
  credentialsRefused: CredentialRefusal | null;
  /** The device's tag names, by name (at most MAX_TAGS_PER_DEVICE). */
  tags: string[];
}

export interface DevicePage {
  items: DeviceListItem[];
  /** Devices matching the filters, over every page. */
  total: number;
  /** Pass as `cursor` for the next page; null on the last one. */
  nextCursor: string | null;
}

interface SortKeyPart {
  /** The expression, exactly as in migration 007's index for this sort. */
  sql: string;
  /** The expression's value as a cursor holds it (JSON-safe). */
  select: string;
  /** A cursor value back into the expression's type, from parameter `$n`. */
  param: (n: number) => string;
  value: z.ZodType<string | number>;
}

const lowerName: SortKeyPart = { sql: 'lower(name)', select: 'lower(name)', param: (n) => `$${n}::text`, value: z.string().max(1_024) };
const SORTS: Record<DeviceSortKey, SortKeyPart[]> = {
  name: [lowerName],
  status: [{ sql: 'status', select: 'status', param: (n) => `$${n}::text`, value: z.string().max(50) }, lowerName],
  lastSeen: [{
    sql: `COALESCE(last_seen, 'epoch'::timestamptz)`,
    // Whole microseconds: exact both ways, where a JavaScript Date would drop the last three digits.
    select: `(extract(epoch FROM COALESCE(last_seen, 'epoch'::timestamptz)) * 1000000)::bigint`,
    param: (n) => `('epoch'::timestamptz + $${n}::float8 * interval '1 microsecond')`,
    value: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  }],
};

const cursorSchema = z.object({ s: z.enum(['name', 'status', 'lastSeen']), d: z.enum(['asc', 'desc']), k: z.array(z.union([z.string(), z.number()])).max(2), id: z.uuid() }).strict();

function encodeCursor(query: DeviceListQuery, keys: (string | number)[], id: string): string {
  return Buffer.from(JSON.stringify({ s: query.sort, d: query.dir, k: keys, id })).toString('base64url');
}

/** The cursor's key values; a cursor made for another sort or order, or tampered with, is refused. */
function decodeCursor(query: DeviceListQuery, cursor: string): { keys: (string | number)[]; id: string } {
  let parsed: z.infer<typeof cursorSchema> | null = null;
  try {
    parsed = cursorSchema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    parsed = null;
  }
  const parts = SORTS[query.sort];
  const valid = parsed && parsed.s === query.sort && parsed.d === query.dir && parsed.k.length === parts.length
    && parts.every((part, i) => part.value.safeParse(parsed.k[i]).success);
  if (!parsed || !valid) throw new AppError('BAD_REQUEST', 'This cursor does not belong to this sort and order; start again from the first page');
  return { keys: parsed.k, id: parsed.id };
}

/** The WHERE clause shared by the page and its count; `fleetIds` are the devices the structure filters let through. */
function filters(organizationId: string, query: DeviceListQuery, fleetIds: string[] | null) {
  const params: unknown[] = [organizationId];
  const where = ['organization_id = $1', 'decommissioned_at IS NULL'];
  if (query.status) where.push(`status = $${params.push(query.status)}`);
  if (query.osType) where.push(`os_type = $${params.push(query.osType)}`);
  if (query.deviceIds) where.push(`id = ANY($${params.push(query.deviceIds)}::uuid[])`);
  if (fleetIds) where.push(`id = ANY($${params.push(fleetIds)}::uuid[])`);
  // strpos, not LIKE: a name search for "50%" or "a_b" means those characters.
  if (query.search) where.push(`strpos(lower(name), lower($${params.push(query.search)})) > 0`);
  return { where, params };
}

/**
 * One page of an organization's devices by keyset: the rows after the cursor in the sort's
 * index order, so page 100 costs what page 1 does. Unless the caller knows it (`knownTotal`),
 * the count of every match rides along in the same statement (one round trip: on PGlite each
 * waits behind the ingest's writes); only an empty page needs a second one.
 */
export async function listDevicePage(db: SqlExecutor, organizationId: string, query: DeviceListQuery, knownTotal?: number): Promise<DevicePage> {
  const parts = SORTS[query.sort];
  const order = query.dir === 'desc' ? 'DESC' : 'ASC';
  // Site, tag, group and custom-field filters are typed queries of the fleet feature; what they
  // let through narrows this page like the id filter does.
  const fleetIds = await fleetFilterDeviceIds(db, organizationId, query);
  const { where, params } = filters(organizationId, query, fleetIds);
  const countSql = `SELECT count(*)::int AS total FROM devices WHERE ${where.join(' AND ')}`;
  const countParams = [...params];
  const pageWhere = [...where];
  if (query.cursor) {
    const { keys, id } = decodeCursor(query, query.cursor);
    const bounds = parts.map((part, i) => part.param(params.push(keys[i])));
    pageWhere.push(`(${parts.map((part) => part.sql).join(', ')}, id) ${order === 'ASC' ? '>' : '<'} (${bounds.join(', ')}, $${params.push(id)}::uuid)`);
  }
  const sql = `SELECT ${knownTotal === undefined ? `(${countSql})` : 'NULL::int'} AS total, id, name, status, os_type AS "osType", os_version AS "osVersion",
      host(ip_address) AS "ipAddress", last_seen AS "lastSeen", agent_version AS "agentVersion",
      approval_state AS "approvalState", pending_reason AS "pendingReason", claims_device_id AS "claimsDeviceId",
      (SELECT c.name FROM devices c WHERE c.id = devices.claims_device_id AND c.organization_id = devices.organization_id) AS "claimsDeviceName",
      inventory->>'primaryAddress' AS "reportedAddress", ${credentialRefusalSql('devices')} AS "credentialsRefused",
      ${parts.map((part, i) => `${part.select} AS k${i}`).join(', ')}
    FROM devices WHERE ${pageWhere.join(' AND ')}
    ORDER BY ${parts.map((part) => `${part.sql} ${order}`).join(', ')}, id ${order}
    LIMIT $${params.push(query.limit + 1)}`;
  type Raw = { total: number } & Omit<DeviceRow, 'lastSeen'> & { lastSeen: Date | null } & Record<`k${number}`, string | number>
    & { approvalState: string; pendingReason: string | null; claimsDeviceId: string | null; claimsDeviceName: string | null }
    & { reportedAddress: string | null; credentialsRefused: unknown };
  const { rows: raw } = await db.query<Raw>(sql, params);
  const total = knownTotal ?? raw[0]?.total ?? (await db.query<{ total: number }>(countSql, countParams)).rows[0]?.total ?? 0;
  const rows = raw.slice(0, query.limit);
  const last = rows.at(-1);
  const tags = await tagNamesByDevice(db, organizationId, rows.map((row) => row.id));
  return {
    items: rows.map((row) => ({
      id: row.id, name: row.name, status: row.status, osType: row.osType, osVersion: row.osVersion,
      ipAddress: row.ipAddress, lastSeen: row.lastSeen ? row.lastSeen.toISOString() : null, agentVersion: row.agentVersion,
      pendingApproval: row.approvalState === 'pending'
        ? { reason: row.pendingReason, claimsDeviceId: row.claimsDeviceId, claimsDeviceName: row.claimsDeviceName }
        : null,
      ...deviceAddress(row.reportedAddress, row.ipAddress),
      credentialsRefused: toCredentialRefusal(row.credentialsRefused),
      tags: tags.get(row.id) ?? [],
    })),
    total,
    nextCursor: raw.length > query.limit && last ? encodeCursor(query, parts.map((_, i) => last[`k${i}`]!), last.id) : null,
  };
}
