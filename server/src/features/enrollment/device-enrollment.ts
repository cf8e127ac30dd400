import { randomUUID } from 'node:crypto';
import type { DeviceCredentials, Inventory } from '@ninjait/shared';
import type { RelationalStore, SqlExecutor } from '../../stores/relational/index.ts';
import { hashSecret, newSecret, secretMatches } from '../../platform/secrets.ts';
import { returnEnrollmentTokenUse, takeEnrollmentTokenUse } from './enrollment-tokens.ts';
import type { EventPublisher } from '../events/index.ts';
import { osFields, replaceSecretHash, withoutMachineKey } from '../devices/index.ts';
import { deviceWithKey, ingestPosition, insertEnrolledDevice, lockForTransaction, updateEnrolledDevice, type EnrolledFields } from './repository.ts';

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
  const row = await deviceWithKey(tx, organizationId, machineKey, credentials.deviceId);
  return row && secretMatches(credentials.deviceSecret, row.secretHash) ? row : null;
}

/**
 * Trades a token for a device id and a fresh secret, in one transaction after the token's use is
 * taken: a refused token writes nothing. A machine's identity is its secret, not its machine key (which any local user can read):
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
  // Refused tokens write nothing; the use is taken first, outside the transaction (see takeEnrollmentTokenUse).
  const { tokenId, organizationId } = await takeEnrollmentTokenUse(db, input.token);
  let rolledBack = false;
  try {
    return await db.transaction((tx) => enrollWithToken(tx, events, input, tokenId, organizationId).catch((error: unknown) => {
      rolledBack = true;
      throw error;
    }));
  } catch (error) {
    // Only when the transaction surely wrote nothing: a failed COMMIT may have committed, and the use is then spent.
    if (rolledBack) await returnEnrollmentTokenUse(db, tokenId).catch(() => undefined);
    throw error;
  }
}

async function enrollWithToken(
  tx: SqlExecutor,
  events: EventPublisher,
  input: { inventory: Inventory; currentCredentials?: DeviceCredentials | undefined; sourceIp: string | null },
  tokenId: string,
  organizationId: string,
): Promise<EnrollmentResult> {
  const { inventory } = input;
  const machineKey = inventory.machineKey;
  // Transaction-scoped (released at COMMIT on the same connection): safe behind PgBouncer's transaction pooling.
  await lockForTransaction(tx, ENROLL_LOCK_CLASS, `${organizationId}:${machineKey}`);
  const { osType, osVersion } = osFields(inventory);
  const fields: EnrolledFields = {
    name: inventory.hostname.slice(0, 255), osType, osVersion, inventory: JSON.stringify(withoutMachineKey(inventory)), agentVersion: inventory.agentVersion,
  };
  const deviceSecret = newSecret('nds_');

  const proven = input.currentCredentials ? await provenDevice(tx, organizationId, machineKey, input.currentCredentials) : null;
  if (proven) {
    await updateEnrolledDevice(tx, proven.id, fields);
    await replaceSecretHash(tx, proven.id, hashSecret(deviceSecret));
    const nextSeq = await ingestPosition(tx, proven.id) + 1;
    return {
      deviceId: proven.id, organizationId, deviceSecret, nextSeq, reused: true, outcome: 'reenrolled', tokenId,
      status: proven.approvalState === 'approved' ? 'active' : 'pending_approval', claimsDeviceId: null, pendingReason: null,
    };
  }

  // The id is drawn here so the event below is named before the row exists; the statement writes it all at once.
  const deviceId = randomUUID();
  const reasonIfHeld: PendingReason = input.currentCredentials ? 'wrong_credentials' : 'no_credentials';
  const { claimsDeviceId, lastSeq } = await insertEnrolledDevice(tx, {
    ...fields, id: deviceId, organizationId, ipAddress: input.sourceIp, machineKey, secretHash: hashSecret(deviceSecret), reasonIfHeld,
  });
  await events.publish(tx, {
    type: 'device.enrolled', organizationId, source: deviceId,
    data: { device: { id: deviceId, name: fields.name, osType, osVersion, approval: claimsDeviceId ? 'pending' : 'approved' } },
  });
  return {
    deviceId, organizationId, deviceSecret, nextSeq: lastSeq + 1, reused: false, tokenId, claimsDeviceId,
    pendingReason: claimsDeviceId ? reasonIfHeld : null,
    outcome: claimsDeviceId ? 'pending' : 'enrolled', status: claimsDeviceId ? 'pending_approval' : 'active',
  };
}
