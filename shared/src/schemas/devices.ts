import { z } from 'zod';
import { storableText } from './bounds.ts';

/** Rows per page of the fleet table when the caller does not say, and the most one call returns. */
export const DEVICE_PAGE_DEFAULT = 100;
export const DEVICE_PAGE_MAX = 500;

/** The columns the server sorts the fleet by; each has an index (relational migration 006). */
export const DEVICE_SORT_KEYS = ['name', 'status', 'lastSeen'] as const;
export type DeviceSortKey = (typeof DEVICE_SORT_KEYS)[number];

/** The statuses a listed device can have (decommissioned devices are never listed). */
export const DEVICE_LIST_STATUSES = ['online', 'offline', 'pending'] as const;

/** A custom field compared with a value: equals, contains (text), < and > (numbers and dates YYYY-MM-DD). */
export const deviceFieldFilterSchema = z.object({
  fieldId: z.uuid(),
  op: z.enum(['equals', 'contains', '<', '>']),
  value: z.union([z.string().min(1).max(2_000), z.number().finite().min(-1e15).max(1e15), z.boolean()]),
}).strict();
export type DeviceFieldFilter = z.output<typeof deviceFieldFilterSchema>;

/** One page of the caller's fleet: filters, sort, and where the previous page ended. */
export const deviceListInputSchema = z.object({
  limit: z.number().int().min(1).max(DEVICE_PAGE_MAX).default(DEVICE_PAGE_DEFAULT),
  /** `nextCursor` of the previous page, fetched with the same sort; opaque to clients. */
  cursor: z.string().min(1).max(1_024).optional(),
  status: z.enum(DEVICE_LIST_STATUSES).optional(),
  // Compared in SQL: a NUL would fail the query, so both are made storable (a NUL then matches nothing).
  osType: z.string().min(1).max(50).transform(storableText).optional(),
  /** Part of the device name, any case. */
  search: z.string().trim().max(255).transform(storableText).optional(),
  /** Only these devices, e.g. to name the rows of a report; ids of other organizations match nothing. */
  deviceIds: z.array(z.uuid()).min(1).max(DEVICE_PAGE_MAX).optional(),
  /** Only devices of this site, carrying this tag, in this saved group, or whose custom field matches. */
  siteId: z.uuid().optional(),
  tagId: z.uuid().optional(),
  groupId: z.uuid().optional(),
  field: deviceFieldFilterSchema.optional(),
  sort: z.enum(DEVICE_SORT_KEYS).default('name'),
  dir: z.enum(['asc', 'desc']).default('asc'),
}).strict();
export type DeviceListInput = z.input<typeof deviceListInputSchema>;
export type DeviceListQuery = z.output<typeof deviceListInputSchema>;
