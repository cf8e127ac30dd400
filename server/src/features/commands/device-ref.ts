import { z } from 'zod';
import type { SqlExecutor } from '../../stores/relational/index.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import { assertShellSupported, defaultShell } from './shells.ts';
import { awaitingApproval } from './requests.ts';
import type { Shell } from './types.ts';

/** A device by id, or by name (optionally within an organization named or identified by `org`), for the CLI. */
export async function resolveDeviceRef(db: SqlExecutor, ref: string, org?: string): Promise<string> {
  const isId = z.uuid().safeParse(ref).success;
  const orgIsId = org !== undefined && z.uuid().safeParse(org).success;
  const { rows } = await db.query<{ id: string }>(
    `SELECT d.id FROM devices d JOIN organizations o ON o.id = d.organization_id
     WHERE d.decommissioned_at IS NULL
       AND ${isId ? 'd.id = $1::uuid' : 'lower(d.name) = lower($1)'}
       AND ($2::text IS NULL OR ${orgIsId ? 'o.id = $2::uuid' : 'lower(o.name) = lower($2)'})
     LIMIT 2`,
    [ref, org ?? null],
  );
  if (rows.length === 0) throw notFound(`Device "${ref}"`);
  if (rows.length > 1) throw new AppError('CONFLICT', `Several devices are named "${ref}": use the device id, or --org`);
  return rows[0]!.id;
}

/**
 * The device a person targets, locked in the caller's transaction: another organization's
 * (or a decommissioned) device is simply not found, one waiting for approval is refused; the
 * shell defaults to the device's OS.
 */
export async function targetDevice(tx: SqlExecutor, deviceId: string, organizationId: string | null, shell: Shell | undefined) {
  const { rows } = await tx.query<{ organizationId: string; osType: string | null; name: string; approved: boolean }>(
    `SELECT organization_id AS "organizationId", os_type AS "osType", name, approval_state = 'approved' AS approved FROM devices
     WHERE id = $1 AND ($2::uuid IS NULL OR organization_id = $2) AND decommissioned_at IS NULL`,
    [deviceId, organizationId],
  );
  const found = rows[0];
  if (!found) throw notFound('Device');
  const { approved, ...device } = found;
  if (!approved) throw awaitingApproval();
  const resolved = shell ?? defaultShell(device.osType);
  assertShellSupported(device.osType, resolved);
  return { ...device, shell: resolved };
}
