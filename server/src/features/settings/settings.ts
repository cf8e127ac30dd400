import { sql } from 'kysely';
import { anyUuid, typed, type SqlExecutor } from '../../stores/relational/index.ts';
import { notFound } from '../../platform/errors.ts';
import { settingsSchema, type Settings } from './schema.ts';

export interface StoredSettings { settings: Settings; updatedAt: Date | null; updatedBy: string | null }

const EMPTY: StoredSettings = { settings: {}, updatedAt: null, updatedBy: null };

/**
 * Stored settings read back through the schema: a key a later version dropped is left out rather
 * than handed on as if it still did something. No row (null) is no settings.
 */
const readSettings = (value: unknown): Settings => (value === null || value === undefined ? {} : settingsSchema.strip().safeParse(value).data ?? {});

const parsed = (row: { settings: unknown; updatedAt: Date; updatedBy: string | null } | undefined): StoredSettings =>
  row ? { settings: readSettings(row.settings), updatedAt: row.updatedAt, updatedBy: row.updatedBy } : EMPTY;

export async function organizationSettings(db: SqlExecutor, organizationId: string): Promise<StoredSettings> {
  return parsed(await typed(db).selectFrom('organizationSettings').select(['settings', 'updatedAt', 'updatedBy'])
    .where('organizationId', '=', organizationId).executeTakeFirst());
}

/** Replaces the organization's settings with `settings` (already validated); returns what was there before. */
export async function setOrganizationSettings(db: SqlExecutor, organizationId: string, settings: Settings, by: string | null): Promise<StoredSettings> {
  const before = await organizationSettings(db, organizationId);
  const json = JSON.stringify(settings);
  await typed(db).insertInto('organizationSettings').values({ organizationId, settings: json, updatedBy: by })
    .onConflict((conflict) => conflict.column('organizationId').doUpdateSet({ settings: json, updatedBy: by, updatedAt: sql`now()` }))
    .execute();
  return before;
}

async function assertDevice(db: SqlExecutor, organizationId: string, deviceId: string) {
  const device = await typed(db).selectFrom('devices').select('id').where('id', '=', deviceId).where('organizationId', '=', organizationId).executeTakeFirst();
  if (!device) throw notFound('Device');
}

export async function deviceSettings(db: SqlExecutor, organizationId: string, deviceId: string): Promise<StoredSettings> {
  await assertDevice(db, organizationId, deviceId);
  return parsed(await typed(db).selectFrom('deviceSettings').select(['settings', 'updatedAt', 'updatedBy'])
    .where('deviceId', '=', deviceId).where('organizationId', '=', organizationId).executeTakeFirst());
}

export async function setDeviceSettings(db: SqlExecutor, organizationId: string, deviceId: string, settings: Settings, by: string | null): Promise<StoredSettings> {
  const before = await deviceSettings(db, organizationId, deviceId);
  const json = JSON.stringify(settings);
  await typed(db).insertInto('deviceSettings').values({ deviceId, organizationId, settings: json, updatedBy: by })
    .onConflict((conflict) => conflict.column('deviceId').doUpdateSet({ settings: json, updatedBy: by, updatedAt: sql`now()` }))
    .execute();
  return before;
}

/**
 * What applies to a device: its organization's settings with the device's own on top. One
 * statement: every connected agent's heartbeat asks this once per AGENT_SETTINGS_REFRESH_MS, so
 * at 10,000 agents three round trips each kept the pool busy enough to time out other work.
 */
export async function effectiveDeviceSettings(db: SqlExecutor, organizationId: string, deviceId: string): Promise<Settings> {
  const [settings] = await effectiveSettingsOfDevices(db, [{ organizationId, deviceId }]);
  if (!settings) throw notFound('Device');
  return settings;
}

/**
 * What applies to each of these devices, in one statement (the heartbeats' reads, batched), in
 * their order: undefined for a device that is not of the organization named with it, or is gone.
 */
export async function effectiveSettingsOfDevices(
  db: SqlExecutor,
  devices: readonly { organizationId: string; deviceId: string }[],
): Promise<(Settings | undefined)[]> {
  if (devices.length === 0) return [];
  const rows = await typed(db).selectFrom('devices as d')
    .leftJoin('organizationSettings as os', 'os.organizationId', 'd.organizationId')
    .leftJoin('deviceSettings as ds', (join) => join.onRef('ds.deviceId', '=', 'd.id').onRef('ds.organizationId', '=', 'd.organizationId'))
    .select(['d.id', 'd.organizationId', 'os.settings as organization', 'ds.settings as device'])
    .where('d.id', '=', anyUuid(devices.map((device) => device.deviceId)))
    .execute();
  const byDevice = new Map(rows.map((row) => [row.id, row]));
  return devices.map(({ organizationId, deviceId }) => {
    const row = byDevice.get(deviceId);
    // Checked per pair: the same device may be named with two organizations, one of them wrong.
    return row && row.organizationId === organizationId ? { ...readSettings(row.organization), ...readSettings(row.device) } : undefined;
  });
}
