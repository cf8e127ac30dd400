import { z } from 'zod';
import type { SqlExecutor } from '../../stores/relational/index.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import { assertShellSupported, defaultShell } from './shells.ts';
import { selectDeviceIdsByRef, selectTargetDevice } from './repository.ts';
import { awaitingApproval } from './requests.ts';
import type { Shell } from './types.ts';

/** A device by id, or by name (optionally within an organization named or identified by `org`), for the CLI. */
export async function resolveDeviceRef(db: SqlExecutor, ref: string, org?: string): Promise<string> {
  const isId = z.uuid().safeParse(ref).success;
  const orgIsId = org !== undefined && z.uuid().safeParse(org).success;
  const rows = await selectDeviceIdsByRef(db, isId ? { id: ref } : { name: ref },
    org === undefined ? undefined : orgIsId ? { id: org } : { name: org });
  if (rows.length === 0) throw notFound(`Device "${ref}"`);
  if (rows.length > 1) throw new AppError('CONFLICT', `Several devices are named "${ref}": use the device id, or --org`);
  return rows[0]!;
}

/**
 * The device a person targets, locked in the caller's transaction: another organization's
 * (or a decommissioned) device is simply not found, one waiting for approval is refused; the
 * shell defaults to the device's OS.
 */
export async function targetDevice(tx: SqlExecutor, deviceId: string, organizationId: string | null, shell: Shell | undefined) {
  const found = await selectTargetDevice(tx, deviceId, organizationId);
  if (!found) throw notFound('Device');
  const { approved, ...device } = found;
  if (!approved) throw awaitingApproval();
  const resolved = shell ?? defaultShell(device.osType);
  assertShellSupported(device.osType, resolved);
  return { ...device, shell: resolved };
}
