import type { DeviceCredentials, Inventory } from '@ninjait/shared';
import type { RelationalStore, SqlExecutor } from '../../stores/relational/index.ts';
import { hashSecret, newSecret, secretMatches } from '../../platform/secrets.ts';
import { checkEnrollmentToken, useEnrollmentToken } from './enrollment-tokens.ts';
import type { EventPublisher } from '../events/index.ts';
import { osFields, withoutMachineKey, type ApprovalState } from '../devices/devices.ts';

/** What an enrollment did: a new machine, a known one that proved its secret, or a claim an admin must decide. */
export type EnrollmentOutcome = 'enrolled' | 'reenrolled' | 'pending';

/** Why a device waits for approval; the console words it ("could not prove it"). */
export type PendingReason = 'no_credentials' | 'wrong_credentials';

export interface EnrollmentResult {
  deviceId: string;
  organizationId: string;
  deviceSecret: string;
  nextSeq: number;
  reused: boolean;
  status: 'active' | 'pending_approval';
  outcome: EnrollmentOutcome;
  /** For the audit entry: which token was spent, and the device a pending one claims to be. */
  tokenId: string;
  claimsDeviceId: string | null;
  pendingReason: PendingReason | null;
}

/** Advisory lock class of "one enrollment per machine key per organization at a time". */
const ENROLL_LOCK_CLASS = 7_310_009;

/**
 * The device these credentials prove, if they are the current secret of a live device of this
 * organization with this machine key; null otherwise (a wrong secret and an unknown id alike).
 */
async function provenDevice(tx: SqlExecutor, organizationId: string, machineKey: string, credentials: DeviceCredentials) {
  const { rows } = await tx.query<{ id: string; approvalState: ApprovalState; secretHash: string }>(
    `SELECT d.id, d.approval_state AS "approvalState", c.secret_hash AS "secretHash"
     FROM devices d JOIN device_credentials c ON c.device_id = d.id
     WHERE d.id = $1 AND d.organization_id = $2 AND d.machine_key = $3 AND d.decommissioned_at IS NULL`,
    [credentials.deviceId, organizationId, machineKey],
  );
  const row = rows[0];
  return row && secretMatches(credentials.deviceSecret, row.secretHash) ? row : null;
}

/** The approved live device that already holds this machine key (the most recently seen), if any. */
async function approvedHolder(tx: SqlExecutor, organizationId: string, machineKey: string): Promise<string | null> {
  const { rows } = await tx.query<{ id: string }>(
    `SELECT id FROM devices
     WHERE organization_id = $1 AND machine_key = $2 AND decommissioned_at IS NULL AND approval_state = 'approved'
     ORDER BY last_seen DESC NULLS LAST, created_at DESC LIMIT 1`,
    [organizationId, machineKey],
  );
  return rows[0]?.id ?? null;
}

/** The ingest position a (re-)enrolled device continues from. */
async function nextSeqOf(tx: SqlExecutor, deviceId: string): Promise<number> {
  const { rows } = await tx.query<{ lastSeq: number }>(
    `INSERT INTO device_ingest_state (device_id) VALUES ($1)
     ON CONFLICT (device_id) DO UPDATE SET last_seq = device_ingest_state.last_seq
     RETURNING last_seq AS "lastSeq"`,
    [deviceId],
  );
  return Number(rows[0]!.lastSeq) + 1;
}

/**
 * Trades a token for a device id and a fresh secret, in one transaction: a refused token writes
 * nothing. A machine's identity is its secret, not its machine key (which any local user can read):
 * - the current credentials of a live device with this key: that device, its secret rotated and its
 *   ingest sequence continued (`reenrolled`);
 * - the key of an approved device without them (or with wrong ones): a NEW device pending an admin's
 *   decision, which claims the known one; the known one's secret and queued commands are untouched;
 * - a key no approved device holds: a new active device (`enrolled`).
 * Enrollments of one key in one organization run one at a time, so racing agents cannot both be first.
 */
export async function enrollDevice(
  db: RelationalStore,
  events: EventPublisher,
  input: { token: string; inventory: Inventory; currentCredentials?: DeviceCredentials | undefined; sourceIp: string | null },
): Promise<EnrollmentResult> {
  return db.transaction(async (tx) => {
    const { tokenId, organizationId } = await checkEnrollmentToken(tx, input.token);
    const { inventory } = input;
    const machineKey = inventory.machineKey;
    // Transaction-scoped (released at COMMIT on the same connection): safe behind PgBouncer's transaction pooling.
    await tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [ENROLL_LOCK_CLASS, `${organizationId}:${machineKey}`]);
    const { osType, osVersion } = osFields(inventory);
    const fields = [inventory.hostname.slice(0, 255), osType, osVersion, JSON.stringify(withoutMachineKey(inventory)), inventory.agentVersion];
    const deviceSecret = newSecret('nds_');

    const proven = input.currentCredentials ? await provenDevice(tx, organizationId, machineKey, input.currentCredentials) : null;
    if (proven) {
      await tx.query(
        `UPDATE devices SET name = $2, os_type = $3, os_version = $4, inventory = $5, agent_version = $6 WHERE id = $1`,
        [proven.id, ...fields],
      );
      await tx.query('UPDATE device_credentials SET secret_hash = $2, created_at = NOW() WHERE device_id = $1', [proven.id, hashSecret(deviceSecret)]);
      const nextSeq = await nextSeqOf(tx, proven.id);
      await useEnrollmentToken(tx, tokenId);
      return {
        deviceId: proven.id, organizationId, deviceSecret, nextSeq, reused: true, outcome: 'reenrolled', tokenId,
        status: proven.approvalState === 'approved' ? 'active' : 'pending_approval', claimsDeviceId: null, pendingReason: null,
      };
    }

    const claimsDeviceId = await approvedHolder(tx, organizationId, machineKey);
    const pendingReason: PendingReason | null = claimsDeviceId ? (input.currentCredentials ? 'wrong_credentials' : 'no_credentials') : null;
    const { rows } = await tx.query<{ id: string }>(
      `INSERT INTO devices (name, organization_id, status, os_type, os_version, inventory, agent_version, ip_address, machine_key,
         approval_state, pending_reason, claims_device_id)
       VALUES ($1, $6, 'pending', $2, $3, $4, $5, $7::inet, $8, $9, $10, $11) RETURNING id`,
      [...fields, organizationId, input.sourceIp, machineKey, claimsDeviceId ? 'pending' : 'approved', pendingReason, claimsDeviceId],
    );
    const deviceId = rows[0]!.id;
    await events.publish(tx, {
      type: 'device.enrolled', organizationId, source: deviceId,
      data: { device: { id: deviceId, name: fields[0], osType, osVersion, approval: claimsDeviceId ? 'pending' : 'approved' } },
    });
    await tx.query('INSERT INTO device_credentials (device_id, secret_hash) VALUES ($1, $2)', [deviceId, hashSecret(deviceSecret)]);
    const nextSeq = await nextSeqOf(tx, deviceId);
    await useEnrollmentToken(tx, tokenId);
    return {
      deviceId, organizationId, deviceSecret, nextSeq, reused: false, tokenId, claimsDeviceId, pendingReason,
      outcome: claimsDeviceId ? 'pending' : 'enrolled', status: claimsDeviceId ? 'pending_approval' : 'active',
    };
  });
}
