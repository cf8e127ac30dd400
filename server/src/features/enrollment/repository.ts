import { sql } from 'kysely';
import { compileNamed, typed, type SqlExecutor } from '../../stores/relational/index.ts';
import { claimsDeviceName, deviceColumns, type ApprovalState, type Device } from '../devices/index.ts';

/**
 * Every query of enrollment: tokens, the devices an enrollment makes or continues, and the
 * approvals of the devices that wait for an admin. Typed with Kysely over the relational port;
 * each function is one statement, run on the caller's executor (often its transaction).
 */

export interface EnrollmentToken {
  id: string;
  organizationId: string;
  name: string;
  expiresAt: Date;
  maxUses: number;
  uses: number;
  revokedAt: Date | null;
  createdAt: Date;
}

const TOKEN_COLUMNS = ['id', 'organizationId', 'name', 'expiresAt', 'maxUses', 'uses', 'revokedAt', 'createdAt'] as const;

/** A new token, stored by its hash only, expiring `expiresInSec` from the database's now. */
export async function insertToken(db: SqlExecutor, input: { organizationId: string; tokenHash: string; name: string; expiresInSec: number; maxUses: number; createdBy: string | null }): Promise<EnrollmentToken> {
  return typed(db).insertInto('enrollmentTokens')
    .values({
      organizationId: input.organizationId, tokenHash: input.tokenHash, name: input.name,
      expiresAt: sql<Date>`NOW() + make_interval(secs => ${input.expiresInSec})`, maxUses: input.maxUses, createdBy: input.createdBy,
    })
    .returning(TOKEN_COLUMNS).executeTakeFirstOrThrow();
}

/** The organization's tokens, newest first. */
export async function selectTokens(db: SqlExecutor, organizationId: string): Promise<EnrollmentToken[]> {
  return typed(db).selectFrom('enrollmentTokens').select(TOKEN_COLUMNS).where('organizationId', '=', organizationId)
    .orderBy('createdAt', 'desc').execute();
}

/** Revokes a token of the organization (a revoked one keeps its first revocation time); undefined when there is none. */
export async function markTokenRevoked(db: SqlExecutor, organizationId: string, id: string): Promise<EnrollmentToken | undefined> {
  return typed(db).updateTable('enrollmentTokens').set((eb) => ({ revokedAt: eb.fn.coalesce('revokedAt', sql<Date>`NOW()`) }))
    .where('id', '=', id).where('organizationId', '=', organizationId).returning(TOKEN_COLUMNS).executeTakeFirst();
}

/**
 * Counts up to `count` uses of the token with this hash while it is still good, in a statement of
 * its own whose commit does not wait for the disk: the token's row is locked only while the
 * statement runs, so a fleet's enrollments do not queue behind each other's commits on it. Durable
 * as soon as anything the caller commits afterwards is (the log is flushed in order), and lost in a
 * crash only with the enrollments they were for. `granted` is how many were counted (fewer than
 * `count` when the token runs out); undefined when the token is not good (see `tokenState` for why).
 */
// Compiled once, like the other statements of an enrollment: a roll-out runs them thousands of times a minute.
const RESERVE_TOKEN_USES = compileNamed({ tokenHash: '\u0000hash', count: -731_001 }, (db, p) => db
  .with('noFlushWait', (q) => q.selectNoFrom(sql<string>`set_config('synchronous_commit', 'off', true)`.as('setting')))
  // The row as it is once locked: `granted` is the difference the update makes to it.
  .with('before', (q) => q.selectFrom('enrollmentTokens').select(['id', 'uses'])
    .where('tokenHash', '=', p.tokenHash).where((eb) => eb('uses', '<', eb.ref('maxUses')))
    .where('revokedAt', 'is', null).where('expiresAt', '>', sql<Date>`NOW()`)
    .forUpdate())
  .updateTable('enrollmentTokens').from(['noFlushWait', 'before'])
  .set((eb) => ({ uses: eb.fn<number>('least', [eb('enrollmentTokens.uses', '+', p.count), eb.ref('enrollmentTokens.maxUses')]) }))
  .whereRef('enrollmentTokens.id', '=', 'before.id')
  .returning((eb) => ['enrollmentTokens.id', 'enrollmentTokens.organizationId', eb('enrollmentTokens.uses', '-', eb.ref('before.uses')).as('granted')]));

export async function reserveTokenUses(db: SqlExecutor, tokenHash: string, count: number): Promise<{ id: string; organizationId: string; granted: number } | undefined> {
  const { rows: [row] } = await db.query<{ id: string; organization_id: string; granted: number }>(RESERVE_TOKEN_USES.sql, RESERVE_TOKEN_USES.bind({ tokenHash, count }));
  return row ? { id: row.id, organizationId: row.organization_id, granted: Number(row.granted) } : undefined;
}

/** Gives back a use `reserveTokenUses` took for an enrollment that then failed. */
export async function returnTokenUse(db: SqlExecutor, tokenId: string): Promise<void> {
  await typed(db).updateTable('enrollmentTokens').set((eb) => ({ uses: eb('uses', '-', sql.lit(1)) }))
    .where('id', '=', tokenId).where('uses', '>', sql.lit(0))
    .execute();
}

/** The token with this hash and why it could not be used now. */
export async function tokenState(db: SqlExecutor, tokenHash: string) {
  return typed(db).selectFrom('enrollmentTokens')
    .select((eb) => [
      eb('expiresAt', '<=', sql<Date>`NOW()`).as('expired'), eb('revokedAt', 'is not', null).as('revoked'), eb('uses', '>=', eb.ref('maxUses')).as('usedUp'),
    ])
    .where('tokenHash', '=', tokenHash)
    .$narrowType<{ expired: boolean; revoked: boolean; usedUp: boolean }>()
    .executeTakeFirst();
}

/** A live device of the organization with this id and machine key, with its approval and secret hash. */
export async function deviceWithKey(tx: SqlExecutor, organizationId: string, machineKey: string, deviceId: string) {
  return typed(tx).selectFrom('devices as d').innerJoin('deviceCredentials as c', 'c.deviceId', 'd.id')
    .select(['d.id', 'd.approvalState', 'c.secretHash'])
    .where('d.id', '=', deviceId).where('d.organizationId', '=', organizationId).where('d.machineKey', '=', machineKey).where('d.decommissionedAt', 'is', null)
    .$narrowType<{ approvalState: ApprovalState }>().executeTakeFirst();
}

/** What an enrollment writes of the machine's own report. */
export interface EnrolledFields {
  name: string;
  osType: string;
  osVersion: string;
  /** JSON text, without the machine key. */
  inventory: string;
  agentVersion: string;
}

/** A re-enrolled device takes the machine's latest report. */
export async function updateEnrolledDevice(tx: SqlExecutor, deviceId: string, fields: EnrolledFields): Promise<void> {
  await typed(tx).updateTable('devices').set(fields).where('id', '=', deviceId).execute();
}

/** The device's last ingested sequence, making its row when it has none. */
export async function ingestPosition(tx: SqlExecutor, deviceId: string): Promise<number> {
  const row = await typed(tx).insertInto('deviceIngestState').values({ deviceId })
    .onConflict((oc) => oc.column('deviceId').doUpdateSet((eb) => ({ lastSeq: eb.ref('deviceIngestState.lastSeq') })))
    .returning('lastSeq').executeTakeFirstOrThrow();
  return Number(row.lastSeq);
}

/** A device waiting for an admin, with its machine key (the caller shows a fingerprint of it). */
export async function selectPending(db: SqlExecutor, organizationId: string, limit: number) {
  return typed(db).selectFrom('devices as d')
    .select((eb) => [
      'd.id', 'd.name', eb.fn<string | null>('host', ['d.ipAddress']).as('ipAddress'), 'd.createdAt', 'd.lastSeen',
      'd.pendingReason', 'd.claimsDeviceId', 'd.machineKey', claimsDeviceName(eb),
    ])
    .where('d.organizationId', '=', organizationId).where('d.approvalState', '=', sql.lit('pending')).where('d.decommissionedAt', 'is', null)
    .orderBy('d.createdAt').orderBy('d.id').limit(limit)
    .$narrowType<{ createdAt: Date }>().execute();
}

/** A live device of the organization, locked to the commit, with its approval and claim. */
export async function lockLiveDevice(tx: SqlExecutor, organizationId: string, deviceId: string) {
  return typed(tx).selectFrom('devices').select(['id', 'name', 'claimsDeviceId', 'approvalState'])
    .where('id', '=', deviceId).where('organizationId', '=', organizationId).where('decommissionedAt', 'is', null)
    .forUpdate().executeTakeFirst();
}

/** A device of the organization (retired or not), locked to the commit. */
export async function lockDevice(tx: SqlExecutor, organizationId: string, deviceId: string) {
  return typed(tx).selectFrom('devices').select(['id', 'name'])
    .where('id', '=', deviceId).where('organizationId', '=', organizationId).forUpdate().executeTakeFirst();
}

/** Approves a device; when it replaces one, it takes that one's name and points back at it. */
export async function markApproved(tx: SqlExecutor, deviceId: string, replaced: { id: string; name: string } | null): Promise<Device> {
  return typed(tx).updateTable('devices as d')
    .set((eb) => ({
      approvalState: sql.lit('approved'), pendingReason: null,
      replacedDeviceId: eb.fn.coalesce(eb.val(replaced?.id ?? null), 'd.replacedDeviceId'),
      name: eb.fn.coalesce(eb.val(replaced?.name ?? null), 'd.name'),
    }))
    .where('d.id', '=', deviceId).returning(deviceColumns)
    .$narrowType<{ organizationId: string; status: Device['status']; createdAt: Date }>().executeTakeFirstOrThrow();
}

/** What an enrollment of a machine key no live device proves gets back: the device it claims, if any, and its ingest position. */
export interface NewEnrolledDevice {
  claimsDeviceId: string | null;
  lastSeq: number;
}

/** A new device of a group enrollment, as `insertEnrolledDevices` takes it. */
export type NewDevice = EnrolledFields & {
  id: string; organizationId: string; ipAddress: string | null; machineKey: string; secretHash: string; reasonIfHeld: string;
};

/** The columns of one row of the group's JSON, as jsonb_to_recordset reads them (snake_case: the plugin does not rename inside raw SQL). */
interface NewDeviceRow {
  id: string; organization_id: string; machine_key: string; name: string; os_type: string; os_version: string;
  inventory: string; agent_version: string; ip_address: string | null; reason_if_held: string; secret_hash: string;
}
const NEW_DEVICE_ROW = sql`n(id uuid, organization_id uuid, machine_key text, name text, os_type text, os_version text,
  inventory text, agent_version text, ip_address inet, reason_if_held text, secret_hash text)`;

const INSERT_ENROLLED_DEVICES = compileNamed({ rows: '\u0000rows' }, (db, p) => db
  .with('n', (q) => q.selectFrom(sql<NewDeviceRow>`jsonb_to_recordset(${p.rows}::jsonb)`.as<'n'>(NEW_DEVICE_ROW)).selectAll())
  // Per new device, the most recently seen approved live device of its organization holding its key; a group holds each key once, so none is another's holder.
  .with('holder', (q) => q.selectFrom('n').innerJoinLateral(
    (eb) => eb.selectFrom('devices as d').select('d.id')
      .whereRef('d.organizationId', '=', 'n.organization_id' as never).whereRef('d.machineKey', '=', 'n.machine_key' as never)
      .where('d.decommissionedAt', 'is', null).where('d.approvalState', '=', sql.lit('approved'))
      .orderBy('d.lastSeen', (order) => order.desc().nullsLast()).orderBy('d.createdAt', 'desc').limit(sql.lit(1))
      .as('h'),
    (join) => join.onTrue())
    .select(['n.id as newId', 'h.id as holderId']))
  .with('device', (q) => q.insertInto('devices')
    .columns(['id', 'organizationId', 'machineKey', 'name', 'osType', 'osVersion', 'inventory', 'agentVersion', 'ipAddress', 'status',
      'approvalState', 'pendingReason', 'claimsDeviceId'])
    .expression((eb) => eb.selectFrom('n').leftJoin('holder', 'holder.newId', 'n.id')
      .select((row) => [
        'n.id', 'n.organization_id', 'n.machine_key', 'n.name', 'n.os_type', 'n.os_version', sql<string>`n.inventory::jsonb`.as('inventory'), 'n.agent_version', 'n.ip_address',
        sql.lit('pending').as('status'),
        row.case().when('holder.holderId', 'is', null).then(sql.lit('approved')).else(sql.lit('pending')).end().as('approvalState'),
        row.case().when('holder.holderId', 'is', null).then(sql<string | null>`NULL`).else(row.ref('n.reason_if_held')).end().as('pendingReason'),
        'holder.holderId as claimsDeviceId',
      ]))
    .returning(['id', 'claimsDeviceId']))
  .with('credentials', (q) => q.insertInto('deviceCredentials').columns(['deviceId', 'secretHash'])
    .expression((eb) => eb.selectFrom('device').innerJoin('n', 'n.id', 'device.id').select(['device.id', 'n.secret_hash']))
    .returning('deviceId'))
  .with('ingest', (q) => q.insertInto('deviceIngestState').columns(['deviceId'])
    .expression((eb) => eb.selectFrom('device').select('device.id'))
    .returning(['deviceId', 'lastSeq']))
  .selectFrom('device').innerJoin('ingest', 'ingest.deviceId', 'device.id')
  .select(['device.id', 'device.claimsDeviceId', 'ingest.lastSeq']));

/**
 * New devices with their credentials and ingest positions, in one statement however many (a
 * roll-out enrolls thousands of machines: each round trip counts). Each is approved when no
 * approved live device of its organization holds its machine key; otherwise it waits for an
 * admin and claims the most recently seen holder. The (organization, machine key) pairs are all
 * different and each is locked beforehand (`lockAllForTransaction`): this statement's snapshot is
 * taken after the locks, so it sees every enrollment of those keys before it. Keyed by device id.
 */
export async function insertEnrolledDevices(tx: SqlExecutor, devices: readonly NewDevice[]): Promise<Map<string, NewEnrolledDevice>> {
  const rows: NewDeviceRow[] = devices.map((d) => ({
    id: d.id, organization_id: d.organizationId, machine_key: d.machineKey, name: d.name, os_type: d.osType, os_version: d.osVersion,
    inventory: d.inventory, agent_version: d.agentVersion, ip_address: d.ipAddress, reason_if_held: d.reasonIfHeld, secret_hash: d.secretHash,
  }));
  const { rows: inserted } = await tx.query<{ id: string; claims_device_id: string | null; last_seq: number | string }>(
    INSERT_ENROLLED_DEVICES.sql, INSERT_ENROLLED_DEVICES.bind({ rows: JSON.stringify(rows) }));
  return new Map(inserted.map((row) => [row.id, { claimsDeviceId: row.claims_device_id, lastSeq: Number(row.last_seq) }]));
}

/**
 * Every key's transaction-scoped advisory lock of one class (released at COMMIT on the same
 * connection: safe behind PgBouncer), taken in the order of their hashes: transactions that
 * share keys wait for each other instead of deadlocking.
 */
const ADVISORY_LOCKS = compileNamed({ lockClass: -2, keys: '\u0000keys' }, (db, p) => db
  .selectFrom(sql<{ k: number }>`(SELECT DISTINCT hashtext(key) AS k FROM unnest(${p.keys}::text[]) AS key ORDER BY 1)`.as('keys'))
  .select(sql`pg_advisory_xact_lock(${p.lockClass}::int, keys.k)`.as('locked')));

export async function lockAllForTransaction(tx: SqlExecutor, lockClass: number, keys: readonly string[]): Promise<void> {
  await tx.query(ADVISORY_LOCKS.sql, ADVISORY_LOCKS.bind({ lockClass, keys }));
}
