import { sql } from 'kysely';
import { typed, type RelationalStore, type SqlExecutor } from '../../stores/relational/index.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import { assertBelow, assertDevice, uniqueName } from './device-ref.ts';
import { MAX_TAGS, MAX_TAGS_PER_DEVICE } from './schemas.ts';

export interface Tag {
  id: string;
  name: string;
  createdAt: Date;
}

const COLUMNS = ['id', 'name', 'createdAt'] as const;

/** The organization's tags by name, with how many (active) devices carry each. */
export async function listTags(db: SqlExecutor, organizationId: string): Promise<(Tag & { devices: number })[]> {
  return typed(db).selectFrom('tags as t').select(['t.id', 't.name', 't.createdAt'])
    .select((eb) => eb.selectFrom('deviceTags as dt').innerJoin('devices as d', 'd.id', 'dt.deviceId')
      .select(sql<number>`count(*)::int`.as('n')).whereRef('dt.tagId', '=', 't.id').where('d.decommissionedAt', 'is', null).$asScalar().as('devices'))
    .where('t.organizationId', '=', organizationId).orderBy(sql`lower(t.name)`).execute();
}

export async function createTag(db: SqlExecutor, organizationId: string, name: string): Promise<Tag> {
  await assertBelow(typed(db).selectFrom('tags').select(sql<number>`count(*)::int`.as('n')).where('organizationId', '=', organizationId).executeTakeFirst(), MAX_TAGS, 'tags');
  return uniqueName('tag', name, () => typed(db).insertInto('tags').values({ organizationId, name }).returning(COLUMNS).executeTakeFirstOrThrow());
}

export async function renameTag(db: SqlExecutor, organizationId: string, id: string, name: string): Promise<Tag> {
  const tag = await uniqueName('tag', name, () => typed(db).updateTable('tags').set({ name })
    .where('id', '=', id).where('organizationId', '=', organizationId).returning(COLUMNS).executeTakeFirst());
  if (!tag) throw notFound('Tag');
  return tag;
}

/** Removes the tag from every device too (cascade). */
export async function deleteTag(db: SqlExecutor, organizationId: string, id: string): Promise<Tag> {
  const tag = await typed(db).deleteFrom('tags').where('id', '=', id).where('organizationId', '=', organizationId).returning(COLUMNS).executeTakeFirst();
  if (!tag) throw notFound('Tag');
  return tag;
}

/** Tags by id, name (any case) or both; every one must be the organization's, or none is returned. */
export async function resolveTags(db: SqlExecutor, organizationId: string, refs: readonly string[]): Promise<Tag[]> {
  if (refs.length === 0) return [];
  const lower = refs.map((ref) => ref.toLowerCase());
  const tags = await typed(db).selectFrom('tags').select(COLUMNS).where('organizationId', '=', organizationId)
    .where((eb) => eb.or([eb(sql`id::text`, 'in', lower), eb(sql`lower(name)`, 'in', lower)])).execute();
  const known = new Set(tags.flatMap((tag) => [tag.id, tag.name.toLowerCase()]));
  const missing = lower.find((ref) => !known.has(ref));
  if (missing !== undefined) throw notFound(`Tag "${refs[lower.indexOf(missing)]}"`);
  return tags;
}

/** A device's tags, by name. */
export async function deviceTags(db: SqlExecutor, organizationId: string, deviceId: string): Promise<Tag[]> {
  return typed(db).selectFrom('deviceTags as dt').innerJoin('tags as t', 't.id', 'dt.tagId')
    .select(['t.id', 't.name', 't.createdAt']).where('dt.deviceId', '=', deviceId).where('dt.organizationId', '=', organizationId)
    .orderBy(sql`lower(t.name)`).execute();
}

/** The tag names of each of these devices (a page of the fleet table), by name; a device without tags is absent. */
export async function tagNamesByDevice(db: SqlExecutor, organizationId: string, deviceIds: readonly string[]): Promise<Map<string, string[]>> {
  const byDevice = new Map<string, string[]>();
  if (deviceIds.length === 0) return byDevice;
  const rows = await typed(db).selectFrom('deviceTags as dt').innerJoin('tags as t', 't.id', 'dt.tagId')
    .select(['dt.deviceId', 't.name']).where('dt.organizationId', '=', organizationId).where('dt.deviceId', 'in', [...deviceIds])
    .orderBy(sql`lower(t.name)`).execute();
  for (const row of rows) byDevice.set(row.deviceId, [...(byDevice.get(row.deviceId) ?? []), row.name]);
  return byDevice;
}

/** Replaces a device's tags with exactly these (ids of the organization's tags). */
export async function setDeviceTags(db: RelationalStore, organizationId: string, deviceId: string, tagIds: readonly string[]): Promise<Tag[]> {
  const unique = [...new Set(tagIds)];
  if (unique.length > MAX_TAGS_PER_DEVICE) throw new AppError('BAD_REQUEST', `A device carries at most ${MAX_TAGS_PER_DEVICE} tags`);
  await assertDevice(db, organizationId, deviceId);
  await resolveTags(db, organizationId, unique);
  await db.transaction(async (tx) => {
    await typed(tx).deleteFrom('deviceTags').where('deviceId', '=', deviceId).where('organizationId', '=', organizationId).execute();
    if (unique.length > 0) await typed(tx).insertInto('deviceTags').values(unique.map((tagId) => ({ organizationId, deviceId, tagId }))).execute();
  });
  return deviceTags(db, organizationId, deviceId);
}

/** Adds or removes some tags on several devices at once (the CLI's and bulk actions' way). */
export async function changeTags(db: RelationalStore, organizationId: string, deviceIds: readonly string[], tagIds: readonly string[], add: boolean): Promise<number> {
  const devices = await typed(db).selectFrom('devices').select('id').where('organizationId', '=', organizationId)
    .where('decommissionedAt', 'is', null).where('id', 'in', [...new Set(deviceIds)]).execute();
  if (devices.length !== new Set(deviceIds).size) throw notFound('Device');
  await resolveTags(db, organizationId, tagIds);
  const pairs = devices.flatMap((device) => tagIds.map((tagId) => ({ organizationId, deviceId: device.id, tagId })));
  if (pairs.length === 0) return 0;
  if (!add) {
    const removed = await typed(db).deleteFrom('deviceTags').where('organizationId', '=', organizationId)
      .where('deviceId', 'in', devices.map((device) => device.id)).where('tagId', 'in', [...tagIds]).executeTakeFirst();
    return Number(removed.numDeletedRows);
  }
  // Checked inside the transaction, so a batch that would overload a device adds nothing.
  const added = await db.transaction(async (tx) => {
    const result = await typed(tx).insertInto('deviceTags').values(pairs).onConflict((oc) => oc.doNothing()).executeTakeFirst();
    const over = await typed(tx).selectFrom('deviceTags').select('deviceId').where('deviceId', 'in', devices.map((device) => device.id))
      .groupBy('deviceId').having(sql`count(*)`, '>', MAX_TAGS_PER_DEVICE).executeTakeFirst();
    if (over) throw new AppError('BAD_REQUEST', `A device carries at most ${MAX_TAGS_PER_DEVICE} tags`);
    return result;
  });
  return Number(added.numInsertedOrUpdatedRows ?? 0n);
}
