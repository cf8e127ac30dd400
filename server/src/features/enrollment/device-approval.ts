import type { RelationalStore, SqlExecutor } from '../../stores/relational/index.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import type { EventPublisher } from '../events/index.ts';
import { machineKeyFingerprint, retireDevice, type Device } from '../devices/index.ts';
import { lockDevice, lockLiveDevice, markApproved, selectPending } from './repository.ts';

/**
 * An admin's decisions on a device waiting for approval (see `enrollDevice`): approve it as a
 * device of its own, let it replace the device it claims, or reject it. Each locks the pending
 * row first, so two admins deciding at once get one decision and one CONFLICT.
 */

/** Pending devices one listing returns at most: each was a spent token use, so a long list is an incident. */
export const PENDING_LIST_MAX = 200;

/** A device waiting for an admin, as the console lists it. */
export interface PendingDevice {
  id: string;
  name: string;
  ipAddress: string | null;
  createdAt: Date;
  lastSeen: Date | null;
  pendingReason: string | null;
  claimsDeviceId: string | null;
  claimsDeviceName: string | null;
  machineKeyFingerprint: string | null;
}

/** The organization's devices waiting for approval, oldest first. */
export async function listPendingDevices(db: SqlExecutor, organizationId: string): Promise<PendingDevice[]> {
  const rows = await selectPending(db, organizationId, PENDING_LIST_MAX);
  return rows.map(({ machineKey, ...row }) => ({ ...row, machineKeyFingerprint: machineKey ? machineKeyFingerprint(machineKey) : null }));
}

interface PendingRow {
  id: string;
  name: string;
  claimsDeviceId: string | null;
}

/** The pending device, locked; another organization's id is not found, a decided one is a CONFLICT. */
async function lockPending(tx: SqlExecutor, organizationId: string, deviceId: string): Promise<PendingRow> {
  const row = await lockLiveDevice(tx, organizationId, deviceId);
  if (!row) throw notFound('Device');
  if (row.approvalState !== 'pending') throw new AppError('CONFLICT', 'This device is not waiting for approval');
  return row;
}

/** The pending device becomes a normal device of its own (e.g. a cloned machine sharing the key). */
export async function approveDevice(db: RelationalStore, organizationId: string, deviceId: string): Promise<Device> {
  return db.transaction(async (tx) => {
    const pending = await lockPending(tx, organizationId, deviceId);
    return markApproved(tx, pending.id, null);
  });
}

/**
 * The pending device takes the place of the device it claims (a reinstalled machine that lost its
 * secret): the claimed one is decommissioned (credentials deleted; the caller closes its sockets),
 * and the pending one is approved under its name with `replaced_device_id` pointing back at it.
 */
export async function replaceDevice(db: RelationalStore, events: EventPublisher, organizationId: string, deviceId: string): Promise<{ device: Device; replaced: Device | null; replacedId: string }> {
  return db.transaction(async (tx) => {
    const pending = await lockPending(tx, organizationId, deviceId);
    if (!pending.claimsDeviceId) throw new AppError('CONFLICT', 'This device claims no other device to replace; approve or reject it');
    const claimed = await lockDevice(tx, organizationId, pending.claimsDeviceId);
    if (!claimed) throw new AppError('CONFLICT', 'The device this one claims to be no longer exists');
    // Already decommissioned meanwhile: nothing to retire, the link and the name still apply.
    const replaced = await retireDevice(tx, events, organizationId, claimed.id);
    return { device: await markApproved(tx, pending.id, claimed), replaced, replacedId: claimed.id };
  });
}

/** The pending device is decommissioned (credentials deleted; the caller closes its sockets) and marked rejected. */
export async function rejectDevice(db: RelationalStore, events: EventPublisher, organizationId: string, deviceId: string): Promise<Device> {
  return db.transaction(async (tx) => {
    const pending = await lockPending(tx, organizationId, deviceId);
    return (await retireDevice(tx, events, organizationId, pending.id, 'rejected'))!;
  });
}
