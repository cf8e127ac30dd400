import { sql } from 'kysely';
import { typed, type SqlExecutor } from '../../stores/relational/index.ts';
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
 * Counts one use of the token with this hash if it is still good, in a statement of its own whose
 * commit does not wait for the disk: the token's row is locked only while the statement runs, so a
 * fleet's enrollments do not queue behind each other's commits on it. Durable as soon as anything
 * the caller commits afterwards is (the log is flushed in order), and lost in a crash only with
 * the enrollment it was for. Undefined when the token is not good (see `tokenState` for why).
 */
export async function reserveTokenUse(db: SqlExecutor, tokenHash: string): Promise<{ id: string; organizationId: string } | undefined> {
  const { rows: [row] } = await db.query<{ id: string; organizationId: string }>(
    `WITH no_flush_wait AS (SELECT set_config('synchronous_commit', 'off', true))
     UPDATE enrollment_tokens SET uses = uses + 1 FROM no_flush_wait
     WHERE token_hash = $1 AND uses < max_uses AND revoked_at IS NULL AND expires_at > NOW()
     RETURNING id, organization_id AS "organizationId"`,
    [tokenHash]);
  return row;
}

/** Gives back a use `reserveTokenUse` took for an enrollment that then failed. */
export async function returnTokenUse(db: SqlExecutor, tokenId: string): Promise<void> {
  await db.query('UPDATE enrollment_tokens SET uses = uses - 1 WHERE id = $1 AND uses > 0', [tokenId]);
}

/** The token with this hash and why it could not be used now. */
export async function tokenState(db: SqlExecutor, tokenHash: string) {
  const { rows: [row] } = await db.query<{ expired: boolean; revoked: boolean; usedUp: boolean }>(
    `SELECT expires_at <= NOW() AS expired, revoked_at IS NOT NULL AS revoked, uses >= max_uses AS "usedUp"
     FROM enrollment_tokens WHERE token_hash = $1`,
    [tokenHash]);
  return row;
}

/** Holds a transaction-scoped advisory lock (released at COMMIT on the same connection: safe behind PgBouncer). */
export async function lockForTransaction(tx: SqlExecutor, lockClass: number, key: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1::int, hashtext($2::text))', [lockClass, key]);
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

/**
 * A new device with its credentials and ingest position, in one statement (a roll-out enrolls thousands of machines: each round trip counts). Approved
 * when no approved live device of the organization holds the machine key; otherwise it waits
 * for an admin and claims the most recently seen holder. Run under the (organization, key) lock:
 * this statement's snapshot is taken after it, so it sees every enrollment of the key before it.
 */
export async function insertEnrolledDevice(tx: SqlExecutor, device: EnrolledFields & {
  id: string; organizationId: string; ipAddress: string | null; machineKey: string; secretHash: string;
  /** Why it waits when the key turns out to be held. */
  reasonIfHeld: string;
}): Promise<NewEnrolledDevice> {
  const { rows: [row] } = await tx.query<{ claimsDeviceId: string | null; lastSeq: string }>(
    `WITH holder AS (
       SELECT id FROM devices
       WHERE organization_id = $2 AND machine_key = $3 AND decommissioned_at IS NULL AND approval_state = 'approved'
       ORDER BY last_seen DESC NULLS LAST, created_at DESC LIMIT 1
     ), device AS (
       INSERT INTO devices (id, organization_id, machine_key, name, os_type, os_version, inventory, agent_version, ip_address,
                            status, approval_state, pending_reason, claims_device_id)
       SELECT $1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9::inet, 'pending',
              CASE WHEN holder.id IS NULL THEN 'approved' ELSE 'pending' END,
              CASE WHEN holder.id IS NULL THEN NULL ELSE $10 END, holder.id
       FROM (SELECT 1) AS one LEFT JOIN holder ON TRUE
       RETURNING id, claims_device_id
     ), credentials AS (
       INSERT INTO device_credentials (device_id, secret_hash) SELECT id, $11 FROM device
     ), ingest AS (
       INSERT INTO device_ingest_state (device_id) SELECT id FROM device RETURNING last_seq
     )
     SELECT device.claims_device_id AS "claimsDeviceId", ingest.last_seq AS "lastSeq" FROM device, ingest`,
    [device.id, device.organizationId, device.machineKey, device.name, device.osType, device.osVersion,
      device.inventory, device.agentVersion, device.ipAddress, device.reasonIfHeld, device.secretHash]);
  return { claimsDeviceId: row!.claimsDeviceId, lastSeq: Number(row!.lastSeq) };
}
