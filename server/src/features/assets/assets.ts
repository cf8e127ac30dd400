import { sql } from 'kysely';
import { typed, type SqlExecutor } from '../../stores/relational/index.ts';
import { AppError, isUniqueViolation, notFound } from '../../platform/errors.ts';

/** The fields people set on an asset; days are `YYYY-MM-DD`. */
export interface AssetFields {
  name: string;
  kind: string;
  serial: string | null;
  manufacturer: string | null;
  model: string | null;
  purchaseDate: string | null;
  warrantyEnd: string | null;
  assignee: string | null;
  location: string | null;
  notes: string | null;
}

export interface Asset extends AssetFields {
  id: string;
  organizationId: string;
  /** The enrolled device this asset is, if any (one asset per device, one device per asset). */
  deviceId: string | null;
  deviceName: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface AssetFilter {
  /** Matches name, serial, manufacturer, model, assignee or location, in any case. */
  search: string | null;
  kind: string | null;
  /** Only assets whose warranty ends between today and this many days from today. */
  warrantyWithinDays: number | null;
  limit: number;
  offset: number;
}

const day = (column: 'a.purchaseDate' | 'a.warrantyEnd') => sql<string | null>`to_char(${sql.ref(column)}, 'YYYY-MM-DD')`;

function select(db: SqlExecutor, organizationId: string) {
  return typed(db).selectFrom('assets as a')
    .leftJoin('devices as d', 'd.id', 'a.deviceId')
    .select([
      'a.id', 'a.organizationId', 'a.name', 'a.kind', 'a.serial', 'a.manufacturer', 'a.model', 'a.assignee', 'a.location', 'a.notes',
      'a.deviceId', 'd.name as deviceName', 'a.createdAt', 'a.updatedAt',
      day('a.purchaseDate').as('purchaseDate'), day('a.warrantyEnd').as('warrantyEnd'),
    ])
    .where('a.organizationId', '=', organizationId);
}

const SEARCHED = ['a.name', 'a.serial', 'a.manufacturer', 'a.model', 'a.assignee', 'a.location'] as const;

async function assertDevice(db: SqlExecutor, organizationId: string, deviceId: string) {
  const device = await typed(db).selectFrom('devices').select('id')
    .where('id', '=', deviceId).where('organizationId', '=', organizationId).where('decommissionedAt', 'is', null).executeTakeFirst();
  // Another organization's device reads as missing: tenants never learn of each other's ids.
  if (!device) throw notFound('Device');
}

export async function listAssets(db: SqlExecutor, organizationId: string, filter: AssetFilter): Promise<{ items: Asset[]; total: number }> {
  let query = select(db, organizationId);
  const search = filter.search?.toLowerCase();
  // strpos, not LIKE: what people type is matched as it is, with no wildcards to escape.
  if (search) query = query.where((eb) => eb.or(SEARCHED.map((column) => eb(sql`strpos(lower(coalesce(${sql.ref(column)}, '')), ${search})`, '>', 0))));
  if (filter.kind) query = query.where('a.kind', '=', filter.kind);
  if (filter.warrantyWithinDays !== null) {
    query = query.where(sql<boolean>`a.warranty_end BETWEEN current_date AND current_date + ${filter.warrantyWithinDays}::int`);
  }
  const rows = await query.select(sql<number>`count(*) OVER ()::int`.as('total'))
    .orderBy(filter.warrantyWithinDays !== null ? 'a.warrantyEnd' : 'a.name').orderBy('a.id')
    .limit(filter.limit).offset(filter.offset).execute();
  return { items: rows.map(({ total: _total, ...asset }) => asset), total: rows[0]?.total ?? 0 };
}

export async function getAsset(db: SqlExecutor, organizationId: string, id: string): Promise<Asset> {
  const asset = await select(db, organizationId).where('a.id', '=', id).executeTakeFirst();
  if (!asset) throw notFound('Asset');
  return asset;
}

export async function assetForDevice(db: SqlExecutor, organizationId: string, deviceId: string): Promise<Asset | null> {
  await assertDevice(db, organizationId, deviceId);
  return (await select(db, organizationId).where('a.deviceId', '=', deviceId).executeTakeFirst()) ?? null;
}

async function uniquely<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (isUniqueViolation(error)) {
      const detail = String((error as { constraint?: string; detail?: string }).constraint ?? (error as { detail?: string }).detail ?? '');
      throw new AppError('CONFLICT', /device/.test(detail)
        ? 'That device is already linked to another asset; unlink it there first'
        : 'An asset of this kind with this serial number already exists');
    }
    throw error;
  }
}

export async function createAsset(db: SqlExecutor, organizationId: string, fields: AssetFields & { deviceId: string | null }): Promise<Asset> {
  if (fields.deviceId) await assertDevice(db, organizationId, fields.deviceId);
  const { id } = await uniquely(() => typed(db).insertInto('assets').values({ ...fields, organizationId }).returning('id').executeTakeFirstOrThrow());
  return getAsset(db, organizationId, id);
}

/** Changes the given fields (absent ones stay); returns the asset before and after, for the audit log. */
export async function updateAsset(db: SqlExecutor, organizationId: string, id: string, changes: Partial<AssetFields> & { deviceId?: string | null | undefined }):
Promise<{ before: Asset; after: Asset }> {
  const before = await getAsset(db, organizationId, id);
  if (changes.deviceId) await assertDevice(db, organizationId, changes.deviceId);
  await uniquely(() => typed(db).updateTable('assets').set({ ...changes, updatedAt: sql`now()` })
    .where('id', '=', id).where('organizationId', '=', organizationId).execute());
  return { before, after: await getAsset(db, organizationId, id) };
}

export async function deleteAsset(db: SqlExecutor, organizationId: string, id: string): Promise<Asset> {
  const asset = await getAsset(db, organizationId, id);
  await typed(db).deleteFrom('assets').where('id', '=', id).where('organizationId', '=', organizationId).execute();
  return asset;
}
