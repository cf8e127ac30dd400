import { sql } from 'kysely';
import { typed, type SqlExecutor } from '../../stores/relational/index.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import { assertBelow, uniqueName } from './device-ref.ts';
import { filterExpression, type FieldTypes } from './group-filter.ts';
import { listFields } from './fields.ts';
import { groupFilter, isoDate, MAX_GROUPS, type GroupFields, type GroupFilter } from './schemas.ts';

export interface DeviceGroup {
  id: string;
  name: string;
  description: string;
  filter: GroupFilter;
  createdAt: Date;
  updatedAt: Date;
}

const COLUMNS = ['id', 'name', 'description', 'filter', 'createdAt', 'updatedAt'] as const;
type Row = Omit<DeviceGroup, 'filter'> & { filter: unknown };
// Stored filters were checked when saved; parsing again keeps a hand-edited row from reaching SQL unchecked.
const toGroup = (row: Row): DeviceGroup => ({ ...row, filter: groupFilter.parse(row.filter) });

async function fieldTypes(db: SqlExecutor, organizationId: string): Promise<FieldTypes> {
  return new Map((await listFields(db, organizationId)).map((field) => [field.id, field.type]));
}

/**
 * The organization's active devices matching a filter, by id; `within` narrows the answer to some
 * devices (the alert evaluator asks about one batch). One statement, evaluated by the database.
 */
export async function matchingDeviceIds(db: SqlExecutor, organizationId: string, filter: GroupFilter, within?: readonly string[], fields?: FieldTypes): Promise<string[]> {
  if (within?.length === 0) return [];
  const types = fields ?? await fieldTypes(db, organizationId);
  const rows = await typed(db).selectFrom('devices as d').select('d.id')
    .where('d.organizationId', '=', organizationId).where('d.decommissionedAt', 'is', null)
    .$if(within !== undefined, (query) => query.where('d.id', 'in', [...within!]))
    .where((eb) => filterExpression(eb, filter, types))
    .execute();
  return rows.map((row) => row.id);
}

/**
 * Refuses a filter naming a site, tag or field the organization does not have (as not found, so
 * another organization's ids reveal nothing), or comparing a field in a way its type cannot.
 */
async function assertFilter(db: SqlExecutor, organizationId: string, filter: GroupFilter): Promise<void> {
  const ids = (kind: 'site' | 'tag') => filter.conditions.flatMap((c) => (c.kind === kind ? [kind === 'site' ? (c as { siteId: string | null }).siteId : (c as { tagId: string }).tagId] : []))
    .filter((id): id is string => id !== null);
  const sites = [...new Set(ids('site'))];
  const tags = [...new Set(ids('tag'))];
  if (sites.length > 0) {
    const found = await typed(db).selectFrom('sites').select('id').where('organizationId', '=', organizationId).where('id', 'in', sites).execute();
    if (found.length !== sites.length) throw notFound('Site');
  }
  if (tags.length > 0) {
    const found = await typed(db).selectFrom('tags').select('id').where('organizationId', '=', organizationId).where('id', 'in', tags).execute();
    if (found.length !== tags.length) throw notFound('Tag');
  }
  const fields = new Map((await listFields(db, organizationId)).map((field) => [field.id, field]));
  for (const condition of filter.conditions) {
    if (condition.kind !== 'field') continue;
    const field = fields.get(condition.fieldId);
    if (!field) throw notFound('Custom field');
    const { op, value } = condition;
    const wrong = (how: string) => new AppError('BAD_REQUEST', `Field "${field.name}" (${field.type}) ${how}`);
    switch (field.type) {
      case 'text':
      case 'select':
        if (typeof value !== 'string') throw wrong('compares with text');
        if (op === '<' || op === '>') throw wrong('is compared with "equals" or "contains"');
        break;
      case 'number':
        if (typeof value !== 'number') throw wrong('compares with a number');
        if (op === 'contains') throw wrong('is compared with "equals", "<" or ">"');
        break;
      case 'boolean':
        if (typeof value !== 'boolean') throw wrong('compares with true or false');
        if (op !== 'equals') throw wrong('is compared with "equals"');
        break;
      case 'date':
        if (typeof value !== 'string' || !isoDate.safeParse(value).success) throw wrong('compares with a date (YYYY-MM-DD)');
        if (op === 'contains') throw wrong('is compared with "equals", "<" or ">"');
        break;
    }
  }
}

/** The organization's groups by name, each with how many devices it holds now. */
export async function listGroups(db: SqlExecutor, organizationId: string): Promise<(DeviceGroup & { devices: number })[]> {
  const rows = await typed(db).selectFrom('deviceGroups').select(COLUMNS).where('organizationId', '=', organizationId).orderBy(sql`lower(name)`).execute();
  const types = await fieldTypes(db, organizationId);
  const groups = rows.map(toGroup);
  const counts = await Promise.all(groups.map((group) => matchingDeviceIds(db, organizationId, group.filter, undefined, types)));
  return groups.map((group, i) => ({ ...group, devices: counts[i]!.length }));
}

export async function getGroup(db: SqlExecutor, organizationId: string, id: string): Promise<DeviceGroup> {
  const row = await typed(db).selectFrom('deviceGroups').select(COLUMNS).where('id', '=', id).where('organizationId', '=', organizationId).executeTakeFirst();
  if (!row) throw notFound('Group');
  return toGroup(row);
}

/** By id or name (any case), for the CLI. */
export async function findGroup(db: SqlExecutor, organizationId: string, ref: string): Promise<DeviceGroup> {
  const row = await typed(db).selectFrom('deviceGroups').select(COLUMNS).where('organizationId', '=', organizationId)
    .where((eb) => eb.or([eb(sql`id::text`, '=', ref), eb(sql`lower(name)`, '=', ref.toLowerCase())])).executeTakeFirst();
  if (!row) throw notFound(`Group "${ref}"`);
  return toGroup(row);
}

/** Groups by id, for the alert evaluator; others' ids are simply absent. */
export async function groupsById(db: SqlExecutor, organizationId: string, ids: readonly string[]): Promise<DeviceGroup[]> {
  if (ids.length === 0) return [];
  const rows = await typed(db).selectFrom('deviceGroups').select(COLUMNS).where('organizationId', '=', organizationId).where('id', 'in', [...ids]).execute();
  return rows.map(toGroup);
}

export async function createGroup(db: SqlExecutor, organizationId: string, fields: GroupFields): Promise<DeviceGroup> {
  await assertBelow(typed(db).selectFrom('deviceGroups').select(sql<number>`count(*)::int`.as('n')).where('organizationId', '=', organizationId).executeTakeFirst(), MAX_GROUPS, 'groups');
  await assertFilter(db, organizationId, fields.filter);
  const row = await uniqueName('group', fields.name, () => typed(db).insertInto('deviceGroups')
    .values({ organizationId, name: fields.name, description: fields.description, filter: JSON.stringify(fields.filter) })
    .returning(COLUMNS).executeTakeFirstOrThrow());
  return toGroup(row);
}

export async function updateGroup(db: SqlExecutor, organizationId: string, id: string, changes: Partial<GroupFields>): Promise<DeviceGroup> {
  if (changes.filter) await assertFilter(db, organizationId, changes.filter);
  const row = await uniqueName('group', changes.name ?? '', () => typed(db).updateTable('deviceGroups')
    .set({
      ...(changes.name !== undefined ? { name: changes.name } : {}),
      ...(changes.description !== undefined ? { description: changes.description } : {}),
      ...(changes.filter !== undefined ? { filter: JSON.stringify(changes.filter) } : {}),
      updatedAt: sql`NOW()`,
    })
    .where('id', '=', id).where('organizationId', '=', organizationId).returning(COLUMNS).executeTakeFirst());
  if (!row) throw notFound('Group');
  return toGroup(row);
}

export async function deleteGroup(db: SqlExecutor, organizationId: string, id: string): Promise<DeviceGroup> {
  const row = await typed(db).deleteFrom('deviceGroups').where('id', '=', id).where('organizationId', '=', organizationId).returning(COLUMNS).executeTakeFirst();
  if (!row) throw notFound('Group');
  return toGroup(row);
}

/** A group's current members (ids), evaluated now. */
export async function groupMemberIds(db: SqlExecutor, organizationId: string, id: string): Promise<string[]> {
  return matchingDeviceIds(db, organizationId, (await getGroup(db, organizationId, id)).filter);
}
