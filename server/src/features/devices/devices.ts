import { createHash } from 'node:crypto';
import type { Inventory } from '@ninjait/shared';
import type { SqlExecutor, RelationalStore } from '../../stores/relational/index.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import type { EventPublisher } from '../events/index.ts';
import { hashSecret, newSecret, secretMatches } from '../../platform/secrets.ts';

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

export const DEVICE_COLUMNS = `id, name, organization_id AS "organizationId", status, os_type AS "osType",
  os_version AS "osVersion", host(ip_address) AS "ipAddress", last_seen AS "lastSeen", created_at AS "createdAt",
  agent_version AS "agentVersion", report_interval_ms AS "reportIntervalMs"`;

/** The identity a device proves on every connection. */
export interface AuthenticatedDevice {
  deviceId: string;
  organizationId: string;
}

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
  const { rows } = await db.query<{ organizationId: string; secretHash: string }>(
    `SELECT d.organization_id AS "organizationId", c.secret_hash AS "secretHash"
     FROM devices d JOIN device_credentials c ON c.device_id = d.id
     WHERE d.id = $1 AND d.decommissioned_at IS NULL`,
    [deviceId],
  );
  const row = rows[0];
  if (!row || !secretMatches(secret, row.secretHash)) throw new AppError('UNAUTHORIZED', 'Device credentials are not valid');
  return { deviceId, organizationId: row.organizationId };
}

export async function listDevices(db: SqlExecutor, organizationId: string): Promise<Device[]> {
  const { rows } = await db.query<Device>(
    `SELECT ${DEVICE_COLUMNS} FROM devices WHERE organization_id = $1 AND decommissioned_at IS NULL ORDER BY name, id`,
    [organizationId],
  );
  return rows;
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

/** Whether people may act on a device: `pending` ones wait for an admin; `rejected` ones are decommissioned. */
export type ApprovalState = 'approved' | 'pending' | 'rejected';

/** One device of the caller's organization; another organization's id is simply not found. */
export async function getDevice(db: SqlExecutor, organizationId: string, deviceId: string): Promise<DeviceDetail> {
  const { rows } = await db.query<Device & Omit<DeviceDetail, 'machineKeyFingerprint'> & { machineKey: string | null; inventory: Inventory | null }>(
    `SELECT ${DEVICE_COLUMNS}, d.inventory, d.machine_key AS "machineKey", d.approval_state AS "approvalState",
       d.pending_reason AS "pendingReason", d.claims_device_id AS "claimsDeviceId", d.replaced_device_id AS "replacedDeviceId",
       (SELECT c.name FROM devices c WHERE c.id = d.claims_device_id AND c.organization_id = d.organization_id) AS "claimsDeviceName"
     FROM devices d WHERE d.id = $1 AND d.organization_id = $2`,
    [deviceId, organizationId],
  );
  const row = rows[0];
  if (!row) throw notFound('Device');
  const { machineKey, inventory, ...device } = row;
  return {
    ...device,
    inventory: inventory ? withoutMachineKey(inventory) : null,
    machineKeyFingerprint: machineKey ? machineKeyFingerprint(machineKey) : null,
  };
}

/** Retires a device inside the caller's transaction (see `decommissionDevice`); null when there is none to retire. */
export async function retireDevice(tx: SqlExecutor, events: EventPublisher, organizationId: string, deviceId: string, approvalState?: ApprovalState): Promise<Device | null> {
  const { rows } = await tx.query<Device>(
    `UPDATE devices SET decommissioned_at = NOW(), status = 'decommissioned', approval_state = COALESCE($3, approval_state)
     WHERE id = $1 AND organization_id = $2 AND decommissioned_at IS NULL RETURNING ${DEVICE_COLUMNS}`,
    [deviceId, organizationId, approvalState ?? null],
  );
  if (!rows[0]) return null;
  await tx.query('DELETE FROM device_credentials WHERE device_id = $1', [deviceId]);
  await events.publish(tx, { type: 'device.decommissioned', organizationId, source: deviceId, data: { device: { id: deviceId, name: rows[0].name } } });
  return rows[0];
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
  const { rowCount } = await db.query('UPDATE device_credentials SET secret_hash = $2, created_at = NOW() WHERE device_id = $1', [deviceId, hashSecret(deviceSecret)]);
  if (rowCount === 0) throw new AppError('UNAUTHORIZED', 'Device credentials are not valid');
  return deviceSecret;
}
