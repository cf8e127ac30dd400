import { z } from 'zod';
import { deviceFieldFilterSchema } from '@ninjait/shared';

/** Bounds of the fleet's structure: each keeps one organization's setup, and one filter, small. */
export const MAX_SITES = 1_000;
export const MAX_TAGS = 1_000;
export const MAX_TAGS_PER_DEVICE = 50;
export const MAX_FIELDS = 200;
export const MAX_SELECT_OPTIONS = 100;
export const MAX_GROUPS = 500;
export const MAX_GROUP_CONDITIONS = 20;
export const TAG_NAME_MAX = 64;

// Control characters (NUL above all) would fail a query or hide in a name: refused outright.
const printable = (max: number) => z.string().trim().max(max).refine((text) => !/\p{Cc}/u.test(text), 'must not contain control characters');
const named = (max: number) => printable(max).pipe(z.string().min(1, 'must not be empty'));

/** Whether the runtime knows this IANA time zone ("Europe/Paris"). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export const siteFields = z.object({
  name: named(200),
  address: printable(1_000).default(''),
  notes: z.string().max(4_000).refine((text) => !text.includes('\u0000'), 'must not contain NUL').default(''),
  timezone: z.string().min(1).max(64).refine(isTimeZone, 'is not a known time zone (e.g. Europe/Paris, UTC)').default('UTC'),
}).strict();
export type SiteFields = z.output<typeof siteFields>;

export const tagName = named(TAG_NAME_MAX);

export const FIELD_TYPES = ['text', 'number', 'boolean', 'date', 'select'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

/** The shape of a field's definition, before its options are checked against its type. */
export const fieldDefinitionShape = z.object({
  name: named(100),
  type: z.enum(FIELD_TYPES),
  /** The choices of a select field (and only of one). */
  options: z.array(named(200)).max(MAX_SELECT_OPTIONS).default([]),
  required: z.boolean().default(false),
}).strict();

export const fieldDefinition = fieldDefinitionShape.superRefine((field, ctx) => {
  if (field.type === 'select' && field.options.length === 0) ctx.addIssue({ code: 'custom', path: ['options'], message: 'a select field needs at least one option' });
  if (field.type !== 'select' && field.options.length > 0) ctx.addIssue({ code: 'custom', path: ['options'], message: 'only a select field has options' });
  if (new Set(field.options.map((option) => option.toLowerCase())).size !== field.options.length) {
    ctx.addIssue({ code: 'custom', path: ['options'], message: 'options must differ' });
  }
});
export type FieldDefinitionInput = z.output<typeof fieldDefinition>;

/** A value as people send it; the field's type decides which of these it may be (fields.ts). */
export const fieldValue = z.union([z.string().max(2_000), z.number().finite().min(-1e15).max(1e15), z.boolean()]).nullable();
export type FieldValue = z.output<typeof fieldValue>;

export const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const isoDate = z.string().regex(ISO_DATE, 'a date is YYYY-MM-DD').refine((text) => !Number.isNaN(Date.parse(`${text}T00:00:00Z`)), 'is not a date');

/** One condition of a group's filter. */
export const groupCondition = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('os'), op: z.enum(['equals', 'contains']), value: named(100) }).strict(),
  z.object({ kind: z.literal('site'), op: z.literal('equals'), siteId: z.uuid().nullable() }).strict(),
  z.object({ kind: z.literal('tag'), op: z.literal('has'), tagId: z.uuid() }).strict(),
  z.object({ kind: z.literal('status'), op: z.literal('equals'), value: z.enum(['online', 'offline']) }).strict(),
  deviceFieldFilterSchema.extend({ kind: z.literal('field') }).strict(),
]);
export type GroupCondition = z.output<typeof groupCondition>;

/** A group's filter: every condition (`all`) or at least one (`any`). No conditions: every device. */
export const groupFilter = z.object({
  match: z.enum(['all', 'any']).default('all'),
  conditions: z.array(groupCondition).max(MAX_GROUP_CONDITIONS),
}).strict();
export type GroupFilter = z.output<typeof groupFilter>;

export const groupFields = z.object({
  name: named(200),
  description: printable(1_000).default(''),
  filter: groupFilter,
}).strict();
export type GroupFields = z.output<typeof groupFields>;

export { isoDate };
