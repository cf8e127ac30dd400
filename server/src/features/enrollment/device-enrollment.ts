import { randomUUID } from 'node:crypto';
import type { DeviceCredentials, Inventory } from '@ninjait/shared';
import type { RelationalStore, SqlExecutor } from '../../stores/relational/index.ts';
import { hashSecret, newSecret, secretMatches } from '../../platform/secrets.ts';
import { createTokenUses } from './token-uses.ts';
import type { DomainEvent, EventPublisher } from '../events/index.ts';
import { osFields, replaceSecretHash, withoutMachineKey } from '../devices/index.ts';
import {
  deviceWithKey, ingestPosition, insertEnrolledDevices, lockAllForTransaction, updateEnrolledDevice,
  type EnrolledFields, type NewDevice as NewDeviceRow, type NewEnrolledDevice,
} from './repository.ts';
import { createTransactionGroups, type ItemOutcome } from './transaction-groups.ts';

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

/** What an agent's enrollment brings: its token, its machine's report, and the credentials it already has, if any. */
export interface EnrollmentRequest {
  token: string;
  inventory: Inventory;
  currentCredentials?: DeviceCredentials | undefined;
  sourceIp: string | null;
}

export interface DeviceEnrollment {
  enroll(input: EnrollmentRequest): Promise<EnrollmentResult>;
}

/**
 * Trades a token for a device id and a fresh secret, in a transaction after the token's use is
 * taken (uses of one token taken together, see createTokenUses; new machines' transactions shared,
 * see newDeviceGroups): a refused token writes nothing. A machine's identity is its secret, not its
 * machine key (which any local user can read):
 * - the current credentials of a live device with this key: that device, its secret rotated and its
 *   ingest sequence continued (`reenrolled`);
 * - the key of an approved device without them (or with wrong ones): a NEW device pending an admin's
 *   decision, which claims the known one; the known one's secret and queued commands are untouched;
 * - a key no approved device holds: a new active device (`enrolled`).
 * Enrollments of one key in one organization run one at a time, so racing agents cannot both be first.
 * One per server: what is shared between enrollments (the groups) lives in it.
 */
export function createDeviceEnrollment(db: RelationalStore, events: EventPublisher): DeviceEnrollment {
  const tokenUses = createTokenUses(db);
  const newDevices = newDeviceGroups(db, events);
  return {
    async enroll(input) {
      // Refused tokens write nothing; the use is taken first, outside the transaction.
      const { tokenId, organizationId } = await tokenUses.take(input.token);
      // A machine with credentials to prove runs alone; new machines share group transactions (a roll-out is thousands of them).
      const outcome = input.currentCredentials
        ? await alone(db, (tx) => enrollWithToken(tx, events, input, tokenId, organizationId))
        : await newDevices.do(newDevice(input, tokenId, organizationId, 'no_credentials'));
      if (outcome.ok) return outcome.value;
      // Only when the transaction surely wrote nothing: a failed COMMIT may have committed, and the use is then spent.
      if (outcome.rolledBack) await tokenUses.giveBack(tokenId).catch(() => undefined);
      throw outcome.error;
    },
  };
}

/** One enrollment in a transaction of its own, its failure told apart as a rollback or a failed COMMIT. */
async function alone(db: RelationalStore, fn: (tx: SqlExecutor) => Promise<EnrollmentResult>): Promise<ItemOutcome<EnrollmentResult>> {
  let rolledBack = false;
  try {
    return { ok: true, value: await db.transaction((tx) => fn(tx).catch((error: unknown) => {
      rolledBack = true;
      throw error;
    })) };
  } catch (error) {
    return { ok: false, error, rolledBack };
  }
}

/** A new machine's device, secret and the token that pays for it, before anything is written. */
interface NewDevice {
  device: NewDeviceRow;
  deviceSecret: string;
  tokenId: string;
}

function enrolledFields(inventory: Inventory): EnrolledFields {
  const { osType, osVersion } = osFields(inventory);
  return { name: inventory.hostname.slice(0, 255), osType, osVersion, inventory: JSON.stringify(withoutMachineKey(inventory)), agentVersion: inventory.agentVersion };
}

function newDevice(input: { inventory: Inventory; sourceIp: string | null }, tokenId: string, organizationId: string, reasonIfHeld: PendingReason): NewDevice {
  const deviceSecret = newSecret('nds_');
  // The id is drawn here so the event is named before the row exists; the statement writes it all at once.
  return {
    device: {
      ...enrolledFields(input.inventory), id: randomUUID(), organizationId, ipAddress: input.sourceIp, machineKey: input.inventory.machineKey,
      secretHash: hashSecret(deviceSecret), reasonIfHeld,
    },
    deviceSecret, tokenId,
  };
}

const lockKey = (organizationId: string, machineKey: string) => `${organizationId}:${machineKey}`;

/**
 * Enrollments of new machines, many per transaction: every (organization, key) lock of the group
 * first, then one statement for all the devices, whose snapshot sees every enrollment of those
 * keys before it. One key appears once per group, so no device of a group holds another's key.
 */
function newDeviceGroups(db: RelationalStore, events: EventPublisher) {
  return createTransactionGroups<NewDevice, EnrollmentResult>(db, {
    key: ({ device }) => lockKey(device.organizationId, device.machineKey),
    async all(tx, items) {
      await lockAllForTransaction(tx, ENROLL_LOCK_CLASS, items.map(({ device }) => lockKey(device.organizationId, device.machineKey)));
      return insertNewDevices(tx, events, items);
    },
  });
}

/** New devices, their credentials and ingest positions, and their `device.enrolled` events, under their keys' locks. */
async function insertNewDevices(tx: SqlExecutor, events: EventPublisher, items: readonly NewDevice[]): Promise<EnrollmentResult[]> {
  const inserted = await insertEnrolledDevices(tx, items.map((item) => item.device));
  const results = items.map((item) => {
    const row = inserted.get(item.device.id);
    if (!row) throw new Error('A new device was not inserted');
    return resultOf(item, row);
  });
  await events.publishAll(tx, items.map((item, i) => enrolledEvent(item.device, results[i]!.claimsDeviceId)));
  return results;
}

/** The event of a new device, published in its transaction. */
function enrolledEvent(device: NewDeviceRow, claimsDeviceId: string | null): DomainEvent {
  return {
    type: 'device.enrolled', organizationId: device.organizationId, source: device.id,
    data: { device: { id: device.id, name: device.name, osType: device.osType, osVersion: device.osVersion, approval: claimsDeviceId ? 'pending' : 'approved' } },
  };
}

/** What a new device's enrollment answers. */
function resultOf(item: NewDevice, inserted: NewEnrolledDevice): EnrollmentResult {
  const { device } = item;
  const { claimsDeviceId, lastSeq } = inserted;
  return {
    deviceId: device.id, organizationId: device.organizationId, deviceSecret: item.deviceSecret, nextSeq: lastSeq + 1, reused: false, tokenId: item.tokenId,
    claimsDeviceId, pendingReason: claimsDeviceId ? device.reasonIfHeld as PendingReason : null,
    outcome: claimsDeviceId ? 'pending' : 'enrolled', status: claimsDeviceId ? 'pending_approval' : 'active',
  };
}

/** A machine that brought credentials: its device when they prove it, a new one claiming it otherwise. */
async function enrollWithToken(
  tx: SqlExecutor,
  events: EventPublisher,
  input: Omit<EnrollmentRequest, 'token'>,
  tokenId: string,
  organizationId: string,
): Promise<EnrollmentResult> {
  const machineKey = input.inventory.machineKey;
  await lockAllForTransaction(tx, ENROLL_LOCK_CLASS, [lockKey(organizationId, machineKey)]);
  const proven = input.currentCredentials ? await provenDevice(tx, organizationId, machineKey, input.currentCredentials) : null;
  if (proven) {
    const deviceSecret = newSecret('nds_');
    await updateEnrolledDevice(tx, proven.id, enrolledFields(input.inventory));
    await replaceSecretHash(tx, proven.id, hashSecret(deviceSecret));
    const nextSeq = await ingestPosition(tx, proven.id) + 1;
    return {
      deviceId: proven.id, organizationId, deviceSecret, nextSeq, reused: true, outcome: 'reenrolled', tokenId,
      status: proven.approvalState === 'approved' ? 'active' : 'pending_approval', claimsDeviceId: null, pendingReason: null,
    };
  }
  const [enrolled] = await insertNewDevices(tx, events, [newDevice(input, tokenId, organizationId, input.currentCredentials ? 'wrong_credentials' : 'no_credentials')]);
  return enrolled!;
}
