import { expressionBuilder, sql, type Expression, type ExpressionBuilder, type RawBuilder, type SqlBool } from 'kysely';
import type { DeviceSortKey } from '@ninjait/shared';
import { anyUuid, compileOnce, typed, type SqlExecutor } from '../../stores/relational/index.ts';
import type { DevicesTable } from '../../stores/relational/schema.ts';

/**
 * Every query of the devices feature on `devices` and `device_credentials`: typed with Kysely
 * (a renamed column is a compile error), with `sql` fragments only where PostgreSQL says it better
 * (the keyset page's index expressions, JSON, intervals). Each function is one statement, as before.
 */

export interface Device {
  id: string;
  name: string;
  organizationId: string;
  status: 'online' | 'offline' | 'pending' | 'decommissioned';
  osType: string | null;
  osVersion: string | null;
  ipAddress: string | null;
  lastSeen: Date | null;
  createdAt: Date;
  agentVersion: string | null;
  reportIntervalMs: number;
}

/** Whether people may act on a device: `pending` ones wait for an admin; `rejected` ones are decommissioned. */
export type ApprovalState = 'approved' | 'pending' | 'rejected';

/** What the schema leaves wider than the rows are: set on insert, and a status the code writes. */
type DeviceNarrowing = { organizationId: string; status: Device['status']; createdAt: Date };

/** `devices` aliased `d`, the one way this module (and enrollment's approvals) name the table. */
type DeviceScope = ExpressionBuilder<{ d: DevicesTable }, 'd'>;

/** The columns of `Device`, over `devices` aliased `d`: for select and returning lists. */
export const deviceColumns = (eb: DeviceScope) => [
  'd.id', 'd.name', 'd.organizationId', 'd.status', 'd.osType', 'd.osVersion',
  eb.fn<string | null>('host', ['d.ipAddress']).as('ipAddress'),
  'd.lastSeen', 'd.createdAt', 'd.agentVersion', 'd.reportIntervalMs',
] as const;

/** The name of the device `d` claims to be, in `d`'s organization only (another organization's is never named). */
export const claimsDeviceName = (eb: ExpressionBuilder<{ d: DevicesTable; devices: DevicesTable }, 'd'>) =>
  eb.selectFrom('devices as c').select('c.name')
    .whereRef('c.id', '=', 'd.claimsDeviceId').whereRef('c.organizationId', '=', 'd.organizationId')
    .$asScalar().as('claimsDeviceName');

/** The device's organization and current secret hash, if it is live (the agent's authentication, once per socket). */
// Compiled once: every agent connection proves itself with it (tens of thousands after a restart).
const CREDENTIALS_OF = '\u0000device';
const LIVE_DEVICE_CREDENTIALS = compileOnce((db) => db.selectFrom('devices as d').innerJoin('deviceCredentials as c', 'c.deviceId', 'd.id')
  .select(['d.organizationId', 'c.secretHash']).where('d.id', '=', CREDENTIALS_OF).where('d.decommissionedAt', 'is', null), [CREDENTIALS_OF]);

export async function liveDeviceCredentials(db: SqlExecutor, deviceId: string): Promise<{ organizationId: string; secretHash: string } | undefined> {
  const { rows: [row] } = await db.query<{ organization_id: string; secret_hash: string }>(LIVE_DEVICE_CREDENTIALS, [deviceId]);
  return row ? { organizationId: row.organization_id, secretHash: row.secret_hash } : undefined;
}

/** The organization's live devices by name; with `deviceId`, only that one (a device page's feed), in no order. */
export async function selectLiveDevices(db: SqlExecutor, organizationId: string, options: { ordered: boolean; deviceId?: string | undefined }): Promise<Device[]> {
  return typed(db).selectFrom('devices as d').select(deviceColumns)
    .where('d.organizationId', '=', organizationId).where('d.decommissionedAt', 'is', null)
    .$if(options.deviceId !== undefined, (query) => query.where('d.id', '=', options.deviceId!))
    .$if(options.ordered, (query) => query.orderBy('d.name').orderBy('d.id'))
    .$narrowType<DeviceNarrowing>().execute();
}

/** One device of the organization with its approval, inventory and machine key (the caller hides the key). */
export async function selectDeviceDetail(db: SqlExecutor, organizationId: string, deviceId: string) {
  return typed(db).selectFrom('devices as d')
    .select((eb) => [
      ...deviceColumns(eb), 'd.inventory', 'd.machineKey', 'd.approvalState', 'd.pendingReason', 'd.claimsDeviceId', 'd.replacedDeviceId',
      claimsDeviceName(eb),
    ])
    .where('d.id', '=', deviceId).where('d.organizationId', '=', organizationId)
    .$narrowType<DeviceNarrowing & { approvalState: ApprovalState }>().executeTakeFirst();
}

/** Marks a live device decommissioned (and its approval, when given); undefined when there is none to retire. */
export async function markDecommissioned(tx: SqlExecutor, organizationId: string, deviceId: string, approvalState: ApprovalState | null): Promise<Device | undefined> {
  return typed(tx).updateTable('devices as d')
    .set((eb) => ({ decommissionedAt: sql<Date>`NOW()`, status: 'decommissioned', approvalState: eb.fn.coalesce(eb.val(approvalState), 'd.approvalState') }))
    .where('d.id', '=', deviceId).where('d.organizationId', '=', organizationId).where('d.decommissionedAt', 'is', null)
    .returning(deviceColumns).$narrowType<DeviceNarrowing>().executeTakeFirst();
}

/** Deletes a device's credentials: its secret stops working at once. */
export async function deleteCredentials(tx: SqlExecutor, deviceId: string): Promise<void> {
  await typed(tx).deleteFrom('deviceCredentials').where('deviceId', '=', deviceId).execute();
}

/** Replaces the hash of a device's secret; false when the device has no credentials. */
export async function replaceSecretHash(db: SqlExecutor, deviceId: string, secretHash: string): Promise<boolean> {
  const result = await typed(db).updateTable('deviceCredentials').set({ secretHash, createdAt: sql<Date>`NOW()` })
    .where('deviceId', '=', deviceId).executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Names (and statuses) of these live devices of the organization; `onlineOnly` leaves out those not online. */
export async function namesOf(db: SqlExecutor, organizationId: string, deviceIds: readonly string[], onlineOnly: boolean) {
  return typed(db).selectFrom('devices').select(['id', 'name', 'status'])
    .where('organizationId', '=', organizationId).where('id', '=', anyUuid(deviceIds)).where('decommissionedAt', 'is', null)
    .$if(onlineOnly, (query) => query.where('status', '=', sql.lit('online')))
    .execute();
}

/**
 * Every device id of the organization, decommissioned ones included (their past metrics still
 * count in its analytics): the hourly metrics table has no organization column to filter on.
 */
export async function deviceIdsOfOrganization(db: SqlExecutor, organizationId: string): Promise<string[]> {
  const rows = await typed(db).selectFrom('devices').select('id').where('organizationId', '=', organizationId).execute();
  return rows.map((row) => row.id);
}

/** How many of an organization's devices have this status and OS type. */
export interface DeviceGroup {
  status: string;
  osType: string | null;
  /** Waiting for an admin's approval (absent in groups cached before the field existed). */
  awaitingApproval?: boolean;
  n: number;
}

/** The fleet grouped by status and OS type: a few rows that answer every count the console shows. */
export async function groupDevices(db: SqlExecutor, organizationId: string): Promise<DeviceGroup[]> {
  // A literal, not a parameter: GROUP BY must see the very expression the select list has.
  const awaiting = (eb: ExpressionBuilder<{ devices: DevicesTable }, 'devices'>) => eb('approvalState', '=', sql.lit('pending'));
  return typed(db).selectFrom('devices')
    .select((eb) => ['status', 'osType', awaiting(eb).as('awaitingApproval'), sql<number>`count(*)::int`.as('n')])
    .where('organizationId', '=', organizationId).where('decommissionedAt', 'is', null)
    .groupBy((eb) => ['status', 'osType', awaiting(eb)])
    .$narrowType<{ awaitingApproval: boolean }>().execute();
}

// The offline threshold, for both its users: the ingest's relational sink and the sweeper below.
const thresholdMinutes = (table: string, key: string) =>
  `(SELECT make_interval(secs => (s.settings->>'offlineThresholdMinutes')::float8 * 60) FROM ${table} s
       WHERE ${key} AND jsonb_typeof(s.settings->'offlineThresholdMinutes') = 'number')`;
const offlineAfterText = (intervals: string) => `COALESCE(${thresholdMinutes('device_settings', 's.device_id = d.id')},
    ${thresholdMinutes('organization_settings', 's.organization_id = d.organization_id')},
    make_interval(secs => d.report_interval_ms * ${intervals} / 1000.0))`;

/**
 * How long device `d` may stay quiet before it counts as offline, as SQL: the device's own
 * `offlineThresholdMinutes` setting, else its organization's, else `intervals` (OFFLINE_AFTER_INTERVALS,
 * bound as a parameter) of the device's reporting interval. Settings are validated on write; the
 * JSON type is checked again so a hand-edited row cannot fail the sweep.
 */
export function offlineAfter(intervals: number): RawBuilder<unknown> {
  const [head, tail] = offlineAfterText('\u0000').split('\u0000') as [string, string];
  return sql`${sql.raw(head)}${intervals}${sql.raw(tail)}`;
}

/** Marks offline the online devices quiet past their threshold; returns them with the last-seen time that made them so. */
export async function markQuietOffline(tx: SqlExecutor, intervals: number) {
  return typed(tx).updateTable('devices as d').set({ status: sql.lit('offline') })
    .where('d.status', '=', sql.lit('online')).where('d.lastSeen', '<', sql<Date>`NOW() - ${offlineAfter(intervals)}`)
    .returning(['d.id', 'd.organizationId', 'd.name', 'd.lastSeen'])
    .$narrowType<{ organizationId: string; lastSeen: Date }>().execute();
}

/**
 * The refusal of device `d`'s credentials as JSON, or NULL when the device connected with valid
 * credentials after the last refusal (`last_seen` is newer).
 */
const credentialRefusal = (eb: DeviceScope) => sql<unknown>`CASE WHEN ${eb.ref('d.credentialsRefusedAt')} IS NOT NULL
    AND ${eb.ref('d.credentialsRefusedAt')} > COALESCE(${eb.ref('d.lastSeen')}, 'epoch'::timestamptz)
    THEN json_build_object('since', ${eb.ref('d.credentialsRefusedSince')}, 'lastAt', ${eb.ref('d.credentialsRefusedAt')},
      'from', host(${eb.ref('d.credentialsRefusedFrom')})) END`;

/** One device's refusal as JSON, or undefined / null (another organization's device is simply undefined). */
export async function selectCredentialRefusal(db: SqlExecutor, organizationId: string, deviceId: string): Promise<unknown> {
  const row = await typed(db).selectFrom('devices as d').select((eb) => credentialRefusal(eb).as('refusal'))
    .where('d.id', '=', deviceId).where('d.organizationId', '=', organizationId).executeTakeFirst();
  return row?.refusal;
}

/**
 * Writes one refusal unless this device was written within `intervalMs`. A new streak starts when
 * the device connected with valid credentials since the last refusal. Unknown and retired devices
 * match no row: nothing is written for them.
 */
export async function recordCredentialRefusal(db: SqlExecutor, deviceId: string, ip: string | null, intervalMs: number): Promise<boolean> {
  const result = await typed(db).updateTable('devices')
    .set((eb) => ({
      credentialsRefusedSince: sql<Date>`CASE
         WHEN ${eb.ref('credentialsRefusedAt')} IS NULL OR ${eb.ref('credentialsRefusedAt')} <= COALESCE(${eb.ref('lastSeen')}, 'epoch'::timestamptz) THEN NOW()
         ELSE ${eb.ref('credentialsRefusedSince')} END`,
      credentialsRefusedAt: sql<Date>`NOW()`,
      credentialsRefusedFrom: sql<string | null>`${ip}::inet`,
    }))
    .where('id', '=', deviceId).where('decommissionedAt', 'is', null)
    .where((eb) => eb.or([eb('credentialsRefusedAt', 'is', null), eb('credentialsRefusedAt', '<', sql<Date>`NOW() - make_interval(secs => ${intervalMs}::float8 / 1000)`)]))
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** One part of a sort's key: the expression exactly as migration 007's index has it, its cursor value, and the value back. */
interface SortKeyPart {
  expression: RawBuilder<unknown>;
  /** The expression's value as a cursor holds it (JSON-safe). */
  select: RawBuilder<string | number>;
  /** A cursor value back into the expression's type. */
  bound: (value: string | number) => RawBuilder<unknown>;
}

const lowerName: SortKeyPart = { expression: sql`lower(name)`, select: sql<string>`lower(name)`, bound: (value) => sql`${value}::text` };
const SORTS: Record<DeviceSortKey, SortKeyPart[]> = {
  name: [lowerName],
  status: [{ expression: sql`status`, select: sql<string>`status`, bound: (value) => sql`${value}::text` }, lowerName],
  lastSeen: [{
    expression: sql`COALESCE(last_seen, 'epoch'::timestamptz)`,
    // Whole microseconds: exact both ways, where a JavaScript Date would drop the last three digits.
    select: sql<number>`(extract(epoch FROM COALESCE(last_seen, 'epoch'::timestamptz)) * 1000000)::bigint`,
    bound: (value) => sql`('epoch'::timestamptz + ${value}::float8 * interval '1 microsecond')`,
  }],
};

/** How many values a cursor of this sort holds. */
export const sortKeyLength = (sort: DeviceSortKey) => SORTS[sort].length;

/** What one page of the fleet table asks for; `fleetIds` are the devices the structure filters let through. */
export interface DevicePageQuery {
  organizationId: string;
  status?: string | undefined;
  osType?: string | undefined;
  deviceIds?: readonly string[] | undefined;
  fleetIds: readonly string[] | null;
  search?: string | undefined;
  sort: DeviceSortKey;
  dir: 'asc' | 'desc';
  /** The cursor's keys and id: the page starts after that row. */
  after?: { keys: (string | number)[]; id: string } | undefined;
  /** Rows to read (the caller asks for one more than it shows, to know there is a next page). */
  limit: number;
  /** Count every match in the same statement (else `total` is null). */
  count: boolean;
}

/** The WHERE clause shared by the page and its count, unqualified so each reads its own `devices`. */
function pageFilters(query: DevicePageQuery): Expression<SqlBool> {
  const eb = expressionBuilder<{ devices: DevicesTable }, 'devices'>();
  return eb.and([
    eb('organizationId', '=', query.organizationId),
    eb('decommissionedAt', 'is', null),
    ...(query.status ? [eb('status', '=', query.status)] : []),
    ...(query.osType ? [eb('osType', '=', query.osType)] : []),
    ...(query.deviceIds ? [eb('id', '=', anyUuid(query.deviceIds))] : []),
    ...(query.fleetIds ? [eb('id', '=', anyUuid(query.fleetIds))] : []),
    // strpos, not LIKE: a name search for "50%" or "a_b" means those characters.
    ...(query.search ? [eb(sql`strpos(lower(name), lower(${query.search}))`, '>', sql.lit(0))] : []),
  ]);
}

/** The rows after the cursor's in the sort's order: `(key…, id) > (value…, id)`, the index's own comparison. */
function afterCursor(parts: SortKeyPart[], dir: 'asc' | 'desc', after: NonNullable<DevicePageQuery['after']>) {
  const bounds = parts.map((part, i) => part.bound(after.keys[i]!));
  return sql<SqlBool>`(${sql.join(parts.map((part) => part.expression))}, id) ${sql.raw(dir === 'desc' ? '<' : '>')} (${sql.join(bounds)}, ${after.id}::uuid)`;
}

/** Every match of the page's filters, however many pages. */
export async function countDevicePage(db: SqlExecutor, query: DevicePageQuery): Promise<number> {
  const row = await typed(db).selectFrom('devices').select(sql<number>`count(*)::int`.as('total'))
    .where(pageFilters(query)).executeTakeFirst();
  return row?.total ?? 0;
}

/**
 * One page of devices by keyset, in the sort's index order (so page 100 costs what page 1 does),
 * each row with its sort key values (`k0`, `k1`) for the next cursor. With `count`, the count of
 * every match rides along in the same statement: one round trip (on PGlite each waits behind the
 * ingest's writes).
 */
export async function selectDevicePage(db: SqlExecutor, query: DevicePageQuery) {
  const parts = SORTS[query.sort];
  return typed(db).selectFrom('devices as d')
    .select((eb) => [
      query.count
        ? eb.selectFrom('devices').select(sql<number>`count(*)::int`.as('total')).where(pageFilters(query)).$asScalar().as('total')
        : sql<number | null>`NULL::int`.as('total'),
      'd.id', 'd.name', 'd.status', 'd.osType', 'd.osVersion', eb.fn<string | null>('host', ['d.ipAddress']).as('ipAddress'), 'd.lastSeen',
      'd.agentVersion', 'd.approvalState', 'd.pendingReason', 'd.claimsDeviceId', claimsDeviceName(eb),
      sql<string | null>`d.inventory->>'primaryAddress'`.as('reportedAddress'), credentialRefusal(eb).as('credentialsRefused'),
      ...parts.map((part, i) => part.select.as(`k${i}`)),
    ])
    .where(pageFilters(query))
    .$if(query.after !== undefined, (page) => page.where(afterCursor(parts, query.dir, query.after!)))
    .$call((page) => parts.reduce((ordered, part) => ordered.orderBy(part.expression, query.dir), page).orderBy('d.id', query.dir))
    .limit(query.limit)
    .$narrowType<{ status: Device['status'] } & Record<`k${number}`, string | number>>()
    .execute();
}
