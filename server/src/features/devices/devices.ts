import { createHash } from 'node:crypto';
import type { Inventory } from '@ninjait/shared';
import type { SqlExecutor, RelationalStore } from '../../stores/relational/index.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import type { EventPublisher } from '../events/index.ts';
import { hashSecret, newSecret, secretMatches } from '../../platform/secrets.ts';
import type { AuthenticatedDevice } from '../../platform/trpc/caller.ts';

import {
  deleteCredentials, liveDeviceCredentials, markDecommissioned, replaceSecretHash, selectDeviceDetail, selectLiveDevices,
  type ApprovalState, type Device,
} from './repository.ts';

export type { ApprovalState, Device } from './repository.ts';

/** The identity a device proves on every connection: the platform's shape (the context holds it). */
export type { AuthenticatedDevice };

/** What a device's inventory shows people: everything but the machine key, which is half of a takeover. */
export type PublicInventory = Omit<Inventory, 'machineKey'>;

/** Hex digits of the machine key's SHA-256 people see: enough to tell machines apart, useless to claim one. */
const FINGERPRINT_HEX = 12;

/** The machine key as people may see it: the first FINGERPRINT_HEX hex digits of its SHA-256. */
export function machineKeyFingerprint(machineKey: string): string {
  return createHash('sha256').update(machineKey).digest('hex').slice(0, FINGERPRINT_HEX);
}

/** The inventory without its machine key, for storing and showing (older rows and pushes still carry it). */
export function withoutMachineKey(inventory: Inventory | PublicInventory): PublicInventory {
  const { machineKey: _key, ...rest } = inventory as Inventory;
  return rest;
}

export function osFields(inventory: Inventory) {
  return {
    osType: inventory.os.platform,
    osVersion: `${inventory.os.distro} ${inventory.os.release}`.trim().slice(0, 100),
  };
}

/** Checks a device's credentials; decommissioned devices and wrong secrets are refused alike. */
export async function authenticateDevice(db: SqlExecutor, deviceId: string, secret: string): Promise<AuthenticatedDevice> {
  const row = await liveDeviceCredentials(db, deviceId);
  if (!row || !secretMatches(secret, row.secretHash)) throw new AppError('UNAUTHORIZED', 'Device credentials are not valid');
  return { deviceId, organizationId: row.organizationId };
}

export async function listDevices(db: SqlExecutor, organizationId: string): Promise<Device[]> {
  return selectLiveDevices(db, organizationId, { ordered: true });
}

/** A device's page: its approval, and its inventory with the machine key replaced by a fingerprint. */
export type DeviceDetail = Device & {
  inventory: PublicInventory | null;
  machineKeyFingerprint: string | null;
  approvalState: ApprovalState;
  pendingReason: string | null;
  claimsDeviceId: string | null;
  /** The name of the device a pending one claims to be (same organization), for "claims to be <name>". */
  claimsDeviceName: string | null;
  replacedDeviceId: string | null;
};

/** One device of the caller's organization; another organization's id is simply not found. */
export async function getDevice(db: SqlExecutor, organizationId: string, deviceId: string): Promise<DeviceDetail> {
  const row = await selectDeviceDetail(db, organizationId, deviceId);
  if (!row) throw notFound('Device');
  const { machineKey, inventory, ...device } = row;
  return {
    ...device,
    inventory: inventory ? withoutMachineKey(inventory as Inventory) : null,
    machineKeyFingerprint: machineKey ? machineKeyFingerprint(machineKey) : null,
  };
}

/** Retires a device inside the caller's transaction (see `decommissionDevice`); null when there is none to retire. */
export async function retireDevice(tx: SqlExecutor, events: EventPublisher, organizationId: string, deviceId: string, approvalState?: ApprovalState): Promise<Device | null> {
  const device = await markDecommissioned(tx, organizationId, deviceId, approvalState ?? null);
  if (!device) return null;
  await deleteCredentials(tx, deviceId);
  await events.publish(tx, { type: 'device.decommissioned', organizationId, source: deviceId, data: { device: { id: deviceId, name: device.name } } });
  return device;
}

/**
 * Retires a device: its record stays for history, its credentials are deleted so its secret
 * stops working at once, and a re-enrollment of the same machine makes a new record.
 */
export async function decommissionDevice(db: RelationalStore, events: EventPublisher, organizationId: string, deviceId: string): Promise<Device> {
  return db.transaction(async (tx) => {
    const device = await retireDevice(tx, events, organizationId, deviceId);
    if (!device) throw notFound('Device');
    return device;
  });
}

/** Replaces a device's secret; the old one stops working for new connections. */
export async function rotateDeviceSecret(db: SqlExecutor, deviceId: string): Promise<string> {
  const deviceSecret = newSecret('nds_');
  if (!(await replaceSecretHash(db, deviceId, hashSecret(deviceSecret)))) throw new AppError('UNAUTHORIZED', 'Device credentials are not valid');
  return deviceSecret;
}
