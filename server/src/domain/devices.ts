import type { Inventory } from '@ninjait/shared';
import type { SqlExecutor, RelationalStore } from '../stores/relational/index.ts';
import { AppError, notFound } from '../errors.ts';
import { hashSecret, newSecret, secretMatches } from '../auth/secrets.ts';
import { checkEnrollmentToken, useEnrollmentToken } from './enrollment-tokens.ts';

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

export function osFields(inventory: Inventory) {
  return {
    osType: inventory.os.platform,
    osVersion: `${inventory.os.distro} ${inventory.os.release}`.trim().slice(0, 100),
  };
}

/**
 * Trades a token for a device id and a fresh secret, in one transaction: a refused token
 * writes nothing. The same machine in the same organization gets its record back.
 */
export async function enrollDevice(
  db: RelationalStore,
  input: { token: string; inventory: Inventory; sourceIp: string | null },
): Promise<{ deviceId: string; organizationId: string; deviceSecret: string; nextSeq: number; reused: boolean }> {
  return db.transaction(async (tx) => {
    const { tokenId, organizationId } = await checkEnrollmentToken(tx, input.token);
    const { osType, osVersion } = osFields(input.inventory);
    const { rows } = await tx.query<{ id: string; inserted: boolean }>(
      `INSERT INTO devices (name, organization_id, status, os_type, os_version, ip_address, machine_key, inventory, agent_version)
       VALUES ($1, $2, 'pending', $3, $4, $5::inet, $6, $7, $8)
       ON CONFLICT (organization_id, machine_key) WHERE machine_key IS NOT NULL AND decommissioned_at IS NULL
       DO UPDATE SET name = EXCLUDED.name, os_type = EXCLUDED.os_type, os_version = EXCLUDED.os_version,
         inventory = EXCLUDED.inventory, agent_version = EXCLUDED.agent_version
       RETURNING id, (xmax = 0) AS inserted`,
      [input.inventory.hostname.slice(0, 255), organizationId, osType, osVersion, input.sourceIp,
        input.inventory.machineKey, JSON.stringify(input.inventory), input.inventory.agentVersion],
    );
    const device = rows[0]!;
    const deviceSecret = newSecret('nds_');
    await tx.query(
      `INSERT INTO device_credentials (device_id, secret_hash) VALUES ($1, $2)
       ON CONFLICT (device_id) DO UPDATE SET secret_hash = EXCLUDED.secret_hash, created_at = NOW()`,
      [device.id, hashSecret(deviceSecret)],
    );
    const state = await tx.query<{ lastSeq: number }>(
      `INSERT INTO device_ingest_state (device_id) VALUES ($1)
       ON CONFLICT (device_id) DO UPDATE SET last_seq = device_ingest_state.last_seq
       RETURNING last_seq AS "lastSeq"`,
      [device.id],
    );
    await useEnrollmentToken(tx, tokenId);
    return { deviceId: device.id, organizationId, deviceSecret, nextSeq: state.rows[0]!.lastSeq + 1, reused: !device.inserted };
  });
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

/** One device of the caller's organization; another organization's id is simply not found. */
export async function getDevice(db: SqlExecutor, organizationId: string, deviceId: string): Promise<Device & { inventory: Inventory | null }> {
  const { rows } = await db.query<Device & { inventory: Inventory | null }>(
    `SELECT ${DEVICE_COLUMNS}, inventory FROM devices WHERE id = $1 AND organization_id = $2`,
    [deviceId, organizationId],
  );
  if (!rows[0]) throw notFound('Device');
  return rows[0];
}

/**
 * Retires a device: its record stays for history, its credentials are deleted so its secret
 * stops working at once, and a re-enrollment of the same machine makes a new record.
 */
export async function decommissionDevice(db: RelationalStore, organizationId: string, deviceId: string): Promise<Device> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<Device>(
      `UPDATE devices SET decommissioned_at = NOW(), status = 'decommissioned'
       WHERE id = $1 AND organization_id = $2 AND decommissioned_at IS NULL RETURNING ${DEVICE_COLUMNS}`,
      [deviceId, organizationId],
    );
    if (!rows[0]) throw notFound('Device');
    await tx.query('DELETE FROM device_credentials WHERE device_id = $1', [deviceId]);
    return rows[0];
  });
}

/** Replaces a device's secret; the old one stops working for new connections. */
export async function rotateDeviceSecret(db: SqlExecutor, deviceId: string): Promise<string> {
  const deviceSecret = newSecret('nds_');
  const { rowCount } = await db.query('UPDATE device_credentials SET secret_hash = $2, created_at = NOW() WHERE device_id = $1', [deviceId, hashSecret(deviceSecret)]);
  if (rowCount === 0) throw new AppError('UNAUTHORIZED', 'Device credentials are not valid');
  return deviceSecret;
}
