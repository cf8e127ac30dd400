import { z } from 'zod';
import type { DeviceListQuery, DeviceSortKey } from '@ninjait/shared';
import type { SqlExecutor } from '../../stores/relational/index.ts';
import { AppError } from '../../platform/errors.ts';
import { fleetFilterDeviceIds, tagNamesByDevice } from '../fleet/index.ts';
import { toCredentialRefusal, type CredentialRefusal } from './credential-refusals.ts';
import { countDevicePage, selectDevicePage, type Device, type DevicePageQuery } from './repository.ts';

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

/** What a cursor may hold for each part of a sort's key (the repository's SORTS, part for part). */
const lowerName = z.string().max(1_024);
const SORT_KEY_VALUES: Record<DeviceSortKey, z.ZodType<string | number>[]> = {
  name: [lowerName],
  status: [z.string().max(50), lowerName],
  // Whole microseconds since the epoch.
  lastSeen: [z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)],
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
  const parts = SORT_KEY_VALUES[query.sort];
  const valid = parsed && parsed.s === query.sort && parsed.d === query.dir && parsed.k.length === parts.length
    && parts.every((value, i) => value.safeParse(parsed.k[i]).success);
  if (!parsed || !valid) throw new AppError('BAD_REQUEST', 'This cursor does not belong to this sort and order; start again from the first page');
  return { keys: parsed.k, id: parsed.id };
}

/**
 * One page of an organization's devices by keyset: the rows after the cursor in the sort's
 * index order, so page 100 costs what page 1 does. Unless the caller knows it (`knownTotal`),
 * the count of every match rides along in the same statement (one round trip: on PGlite each
 * waits behind the ingest's writes); only an empty page needs a second one.
 */
export async function listDevicePage(db: SqlExecutor, organizationId: string, query: DeviceListQuery, knownTotal?: number): Promise<DevicePage> {
  // Site, tag, group and custom-field filters are typed queries of the fleet feature; what they
  // let through narrows this page like the id filter does.
  const fleetIds = await fleetFilterDeviceIds(db, organizationId, query);
  const pageQuery: DevicePageQuery = {
    organizationId, status: query.status, osType: query.osType, deviceIds: query.deviceIds, fleetIds, search: query.search,
    sort: query.sort, dir: query.dir, after: query.cursor ? decodeCursor(query, query.cursor) : undefined,
    limit: query.limit + 1, count: knownTotal === undefined,
  };
  const raw = await selectDevicePage(db, pageQuery);
  const total = knownTotal ?? raw[0]?.total ?? await countDevicePage(db, pageQuery);
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
    nextCursor: raw.length > query.limit && last ? encodeCursor(query, SORT_KEY_VALUES[query.sort].map((_, i) => last[`k${i}`]!), last.id) : null,
  };
}
