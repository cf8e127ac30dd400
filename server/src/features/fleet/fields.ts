import { sql } from 'kysely';
import { typed, type RelationalStore, type SqlExecutor } from '../../stores/relational/index.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import { assertBelow, assertDevice, uniqueName } from './device-ref.ts';
import { isoDate, MAX_FIELDS, type FieldDefinitionInput, type FieldType, type FieldValue } from './schemas.ts';

export interface CustomField {
  id: string;
  name: string;
  type: FieldType;
  options: string[];
  required: boolean;
  createdAt: Date;
}

/** A device's value of one field; `value` is typed by the field (dates as YYYY-MM-DD). */
export interface DeviceFieldValue {
  fieldId: string;
  name: string;
  type: FieldType;
  value: string | number | boolean;
}

const COLUMNS = ['id', 'name', 'type', 'options', 'required', 'createdAt'] as const;
type Row = Omit<CustomField, 'type' | 'options'> & { type: string; options: unknown };
const toField = (row: Row): CustomField => ({ ...row, type: row.type as FieldType, options: row.options as string[] });

export async function listFields(db: SqlExecutor, organizationId: string): Promise<CustomField[]> {
  const rows = await typed(db).selectFrom('customFields').select(COLUMNS).where('organizationId', '=', organizationId).orderBy(sql`lower(name)`).execute();
  return rows.map(toField);
}

export async function getField(db: SqlExecutor, organizationId: string, id: string): Promise<CustomField> {
  const row = await typed(db).selectFrom('customFields').select(COLUMNS).where('id', '=', id).where('organizationId', '=', organizationId).executeTakeFirst();
  if (!row) throw notFound('Custom field');
  return toField(row);
}

/** By id or name (any case), for the CLI. */
export async function findField(db: SqlExecutor, organizationId: string, ref: string): Promise<CustomField> {
  const row = await typed(db).selectFrom('customFields').select(COLUMNS).where('organizationId', '=', organizationId)
    .where((eb) => eb.or([eb(sql`id::text`, '=', ref), eb(sql`lower(name)`, '=', ref.toLowerCase())])).executeTakeFirst();
  if (!row) throw notFound(`Custom field "${ref}"`);
  return toField(row);
}

export async function createField(db: SqlExecutor, organizationId: string, input: FieldDefinitionInput): Promise<CustomField> {
  await assertBelow(typed(db).selectFrom('customFields').select(sql<number>`count(*)::int`.as('n')).where('organizationId', '=', organizationId).executeTakeFirst(), MAX_FIELDS, 'custom fields');
  const row = await uniqueName('custom field', input.name, () => typed(db).insertInto('customFields')
    .values({ organizationId, name: input.name, type: input.type, options: JSON.stringify(input.options), required: input.required })
    .returning(COLUMNS).executeTakeFirstOrThrow());
  return toField(row);
}

/**
 * Renames a field, changes its options or whether it is required; its type never changes (the
 * values stored would no longer fit). A select option still in use cannot be removed.
 */
export async function updateField(db: SqlExecutor, organizationId: string, id: string, changes: { name?: string | undefined; options?: string[] | undefined; required?: boolean | undefined }): Promise<CustomField> {
  const field = await getField(db, organizationId, id);
  if (changes.options) {
    if (field.type !== 'select') throw new AppError('BAD_REQUEST', 'Only a select field has options');
    if (changes.options.length === 0) throw new AppError('BAD_REQUEST', 'A select field needs at least one option');
    const used = await typed(db).selectFrom('deviceFieldValues').select('valueText').distinct().where('fieldId', '=', id).execute();
    const dropped = used.map((row) => row.valueText).find((value) => value !== null && !changes.options!.includes(value));
    if (dropped) throw new AppError('CONFLICT', `Option "${dropped}" is still set on some devices; change them first`);
  }
  // Nothing to change is an answer, not an UPDATE with an empty SET (a syntax error, so a 500).
  if (changes.name === undefined && changes.options === undefined && changes.required === undefined) return field;
  const row = await uniqueName('custom field', changes.name ?? field.name, () => typed(db).updateTable('customFields')
    .set({
      ...(changes.name !== undefined ? { name: changes.name } : {}),
      ...(changes.options !== undefined ? { options: JSON.stringify(changes.options) } : {}),
      ...(changes.required !== undefined ? { required: changes.required } : {}),
    })
    .where('id', '=', id).where('organizationId', '=', organizationId).returning(COLUMNS).executeTakeFirstOrThrow());
  return toField(row);
}

/** Deletes the field and every device's value of it. */
export async function deleteField(db: SqlExecutor, organizationId: string, id: string): Promise<CustomField> {
  const row = await typed(db).deleteFrom('customFields').where('id', '=', id).where('organizationId', '=', organizationId).returning(COLUMNS).executeTakeFirst();
  if (!row) throw notFound('Custom field');
  return toField(row);
}

const typeError = (field: CustomField, expected: string) => new AppError('BAD_REQUEST', `Field "${field.name}" holds ${expected}`);

/** The column a value goes to, after checking it against the field's type. */
export function typedColumns(field: CustomField, value: Exclude<FieldValue, null>) {
  const empty = { valueText: null, valueNumber: null, valueBoolean: null, valueDate: null };
  switch (field.type) {
    case 'text':
      if (typeof value !== 'string') throw typeError(field, 'text');
      return { ...empty, valueText: value };
    case 'select':
      if (typeof value !== 'string' || !field.options.includes(value)) throw typeError(field, `one of: ${field.options.join(', ')}`);
      return { ...empty, valueText: value };
    case 'number':
      if (typeof value !== 'number') throw typeError(field, 'a number');
      return { ...empty, valueNumber: value };
    case 'boolean':
      if (typeof value !== 'boolean') throw typeError(field, 'true or false');
      return { ...empty, valueBoolean: value };
    case 'date':
      if (typeof value !== 'string' || !isoDate.safeParse(value).success) throw typeError(field, 'a date (YYYY-MM-DD)');
      return { ...empty, valueDate: value };
  }
}

/** A device's values, by field name; dates come back as YYYY-MM-DD, not as a time zone's midnight. */
export async function deviceFieldValues(db: SqlExecutor, organizationId: string, deviceId: string): Promise<DeviceFieldValue[]> {
  const rows = await typed(db).selectFrom('deviceFieldValues as v').innerJoin('customFields as f', 'f.id', 'v.fieldId')
    .select(['v.fieldId', 'f.name', 'f.type', 'v.valueText', 'v.valueNumber', 'v.valueBoolean'])
    .select(sql<string | null>`to_char(v.value_date, 'YYYY-MM-DD')`.as('valueDate'))
    .where('v.deviceId', '=', deviceId).where('v.organizationId', '=', organizationId).orderBy(sql`lower(f.name)`).execute();
  return rows.map((row) => ({
    fieldId: row.fieldId, name: row.name, type: row.type as FieldType,
    value: (row.valueText ?? row.valueNumber ?? row.valueBoolean ?? row.valueDate)!,
  }));
}

/**
 * Sets some of a device's values (null clears one). Every value is checked against its field's
 * type first, and all are written together or none; a required field cannot be cleared.
 */
export async function setDeviceFieldValues(db: RelationalStore, organizationId: string, deviceId: string, values: Readonly<Record<string, FieldValue>>): Promise<DeviceFieldValue[]> {
  await assertDevice(db, organizationId, deviceId);
  const fields = new Map((await listFields(db, organizationId)).map((field) => [field.id, field]));
  const writes = Object.entries(values).map(([fieldId, value]) => {
    const field = fields.get(fieldId);
    if (!field) throw notFound('Custom field');
    if (value === null && field.required) throw new AppError('BAD_REQUEST', `Field "${field.name}" is required`);
    return { fieldId, columns: value === null ? null : typedColumns(field, value) };
  });
  await db.transaction(async (tx) => {
    for (const { fieldId, columns } of writes) {
      if (!columns) {
        await typed(tx).deleteFrom('deviceFieldValues').where('deviceId', '=', deviceId).where('fieldId', '=', fieldId).execute();
        continue;
      }
      await typed(tx).insertInto('deviceFieldValues').values({ organizationId, deviceId, fieldId, ...columns })
        .onConflict((oc) => oc.columns(['deviceId', 'fieldId']).doUpdateSet({ ...columns, updatedAt: sql`NOW()` })).execute();
    }
  });
  return deviceFieldValues(db, organizationId, deviceId);
}

/** A value typed on a command line, read as the field's type ("42", "true", "2026-01-31"). */
export function parseFieldText(field: CustomField, text: string): string | number | boolean {
  if (field.type === 'number') {
    const value = Number(text);
    if (text.trim() === '' || !Number.isFinite(value)) throw typeError(field, 'a number');
    return value;
  }
  if (field.type === 'boolean') {
    if (/^(true|yes|1)$/i.test(text)) return true;
    if (/^(false|no|0)$/i.test(text)) return false;
    throw typeError(field, 'true or false');
  }
  return text;
}
