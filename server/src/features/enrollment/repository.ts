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

/** The token with this hash and why it could not be used now, without locking it. */
export async function tokenState(tx: SqlExecutor, tokenHash: string) {
  return typed(tx).selectFrom('enrollmentTokens')
    .select((eb) => [
      'id', 'organizationId', eb('expiresAt', '<=', sql<Date>`NOW()`).as('expired'),
      eb('revokedAt', 'is not', null).as('revoked'), eb('uses', '>=', eb.ref('maxUses')).as('usedUp'),
    ])
    .where('tokenHash', '=', tokenHash)
    .$narrowType<{ expired: boolean; revoked: boolean; usedUp: boolean }>().executeTakeFirst();
}

/** Counts one use if the token is still good (locking its row to the commit); false when it is not. */
export async function takeTokenUse(tx: SqlExecutor, tokenId: string): Promise<boolean> {
  const result = await typed(tx).updateTable('enrollmentTokens').set((eb) => ({ uses: eb('uses', '+', 1) }))
    .where('id', '=', tokenId).whereRef('uses', '<', 'maxUses').where('revokedAt', 'is', null).where('expiresAt', '>', sql<Date>`NOW()`)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Holds a transaction-scoped advisory lock (released at COMMIT on the same connection: safe behind PgBouncer). */
export async function lockForTransaction(tx: SqlExecutor, lockClass: number, key: string): Promise<void> {
  await typed(tx).selectNoFrom((eb) => eb.fn('pg_advisory_xact_lock', [eb.val(lockClass), eb.fn('hashtext', [eb.val(key)])]).as('locked')).execute();
}

/** A live device of the organization with this id and machine key, with its approval and secret hash. */
export async function deviceWithKey(tx: SqlExecutor, organizationId: string, machineKey: string, deviceId: string) {
  return typed(tx).selectFrom('devices as d').innerJoin('deviceCredentials as c', 'c.deviceId', 'd.id')
    .select(['d.id', 'd.approvalState', 'c.secretHash'])
    .where('d.id', '=', deviceId).where('d.organizationId', '=', organizationId).where('d.machineKey', '=', machineKey).where('d.decommissionedAt', 'is', null)
    .$narrowType<{ approvalState: ApprovalState }>().executeTakeFirst();
}

/** The approved live device holding this machine key, the most recently seen first. */
export async function approvedHolderOf(tx: SqlExecutor, organizationId: string, machineKey: string): Promise<string | null> {
  const row = await typed(tx).selectFrom('devices').select('id')
    .where('organizationId', '=', organizationId).where('machineKey', '=', machineKey).where('decommissionedAt', 'is', null)
    .where('approvalState', '=', sql.lit('approved'))
    .orderBy('lastSeen', (ob) => ob.desc().nullsLast()).orderBy('createdAt', 'desc').limit(1).executeTakeFirst();
  return row?.id ?? null;
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

/** A new device, `pending` until it connects; it waits for an admin when it claims `claimsDeviceId`. */
export async function insertDevice(tx: SqlExecutor, device: EnrolledFields & {
  organizationId: string; ipAddress: string | null; machineKey: string; approvalState: ApprovalState; pendingReason: string | null; claimsDeviceId: string | null;
}): Promise<string> {
  const { ipAddress, ...values } = device;
  const row = await typed(tx).insertInto('devices')
    .values({ ...values, status: sql.lit('pending'), ipAddress: sql<string | null>`${ipAddress}::inet` })
    .returning('id').executeTakeFirstOrThrow();
  return row.id;
}

export async function insertCredentials(tx: SqlExecutor, deviceId: string, secretHash: string): Promise<void> {
  await typed(tx).insertInto('deviceCredentials').values({ deviceId, secretHash }).execute();
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
