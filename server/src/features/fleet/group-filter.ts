import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import type { Database } from '../../stores/relational/index.ts';
import type { FieldType } from './schemas.ts';
import type { GroupCondition, GroupFilter } from './schemas.ts';

/** A query over `devices as d`, which every group filter narrows. */
export type DevicesBuilder = ExpressionBuilder<Database & { d: Database['devices'] }, 'd'>;

/** Field types by id, for the filter's field conditions; a field not in it (deleted) matches nothing. */
export type FieldTypes = ReadonlyMap<string, FieldType>;

const never = sql<SqlBool>`false`;

function fieldCondition(eb: DevicesBuilder, condition: Extract<GroupCondition, { kind: 'field' }>, type: FieldType | undefined): Expression<SqlBool> {
  if (!type) return never;
  const { op, value } = condition;
  return eb.exists(eb.selectFrom('deviceFieldValues as v').select('v.fieldId')
    .whereRef('v.deviceId', '=', 'd.id').where('v.fieldId', '=', condition.fieldId)
    .where((vb) => {
      switch (type) {
        case 'text':
        case 'select': {
          const needle = String(value).toLowerCase();
          return op === 'contains'
            ? vb(sql`strpos(lower(${vb.ref('v.valueText')}), ${needle})`, '>', 0)
            : vb(vb.fn('lower', ['v.valueText']), '=', needle);
        }
        case 'number':
          return typeof value === 'number' ? vb('v.valueNumber', op === 'equals' ? '=' : op === 'contains' ? '=' : op, value) : never;
        case 'boolean':
          return typeof value === 'boolean' ? vb('v.valueBoolean', '=', value) : never;
        case 'date':
          return typeof value === 'string' ? vb('v.valueDate', op === 'equals' || op === 'contains' ? '=' : op, sql<Date>`${value}::date`) : never;
      }
    }));
}

function conditionExpression(eb: DevicesBuilder, condition: GroupCondition, fields: FieldTypes): Expression<SqlBool> {
  switch (condition.kind) {
    case 'os': {
      const needle = condition.value.toLowerCase();
      // "contains" reads the type and the version together: "ubuntu 22" finds Ubuntu 22.04 machines.
      return condition.op === 'equals'
        ? eb(eb.fn('lower', ['d.osType']), '=', needle)
        : eb(sql`strpos(lower(concat_ws(' ', ${eb.ref('d.osType')}, ${eb.ref('d.osVersion')})), ${needle})`, '>', 0);
    }
    case 'site':
      return condition.siteId === null ? eb('d.siteId', 'is', null) : eb('d.siteId', '=', condition.siteId);
    case 'tag':
      return eb.exists(eb.selectFrom('deviceTags as dt').select('dt.tagId').whereRef('dt.deviceId', '=', 'd.id').where('dt.tagId', '=', condition.tagId));
    case 'status':
      return eb('d.status', '=', condition.value);
    case 'field':
      return fieldCondition(eb, condition, fields.get(condition.fieldId));
  }
}

/**
 * A group's filter as a typed WHERE over `devices as d`: values travel as parameters, never as
 * text. The caller scopes the query to one organization; ids of another organization's sites,
 * tags or fields then match nothing, since a device links only to its own organization's.
 */
export function filterExpression(eb: DevicesBuilder, filter: GroupFilter, fields: FieldTypes): Expression<SqlBool> {
  if (filter.conditions.length === 0) return sql<SqlBool>`true`;
  const parts = filter.conditions.map((condition) => conditionExpression(eb, condition, fields));
  return filter.match === 'any' ? eb.or(parts) : eb.and(parts);
}
