import { z } from 'zod';
import { conditionSchema, SEVERITIES } from './conditions.ts';
import { CHANNEL_KINDS } from './channels-repository.ts';
import { ALERT_STATES } from './alerts-repository.ts';
import { scopeInputSchema } from '../fleet/index.ts';

export const MAX_LIST = 500;
const MAX_CHANNELS_PER_RULE = 20;
const MAX_BULK = 500;
const MAX_EXCLUSIONS = 500;

/** Which devices a rule watches: the organization (no id), or one of its sites, groups or tags. */
export const ruleScope = scopeInputSchema;
/** Maintenance windows last at most this long (a month), so a forgotten one ends. */
export const MAX_WINDOW_MS = 31 * 86_400_000;

export const name = z.string().trim().min(1).max(200);
export const severity = z.enum(SEVERITIES);

export const ruleFields = z.object({
  name,
  condition: conditionSchema,
  severity: severity.default('warning'),
  channelIds: z.array(z.uuid()).max(MAX_CHANNELS_PER_RULE).default([]),
  openTicket: z.boolean().default(false),
  closeTicketOnResolve: z.boolean().default(true),
  enabled: z.boolean().default(true),
  scope: ruleScope.optional(),
  excludedDeviceIds: z.array(z.uuid()).max(MAX_EXCLUSIONS).optional(),
  /** A saved script run once on the device when an alert of this rule opens (null: none). */
  remediationScriptId: z.uuid().nullable().default(null),
});

export const ruleChanges = z.object({
  id: z.uuid(),
  name: name.optional(),
  condition: conditionSchema.optional(),
  severity: severity.optional(),
  channelIds: z.array(z.uuid()).max(MAX_CHANNELS_PER_RULE).optional(),
  openTicket: z.boolean().optional(),
  closeTicketOnResolve: z.boolean().optional(),
  enabled: z.boolean().optional(),
  scope: ruleScope.optional(),
  excludedDeviceIds: z.array(z.uuid()).max(MAX_EXCLUSIONS).optional(),
  remediationScriptId: z.uuid().nullable().optional(),
}).strict();

export const alertFilter = z.object({
  state: z.enum(ALERT_STATES).optional(),
  severity: severity.optional(),
  deviceId: z.uuid().optional(),
  limit: z.number().int().min(1).max(MAX_LIST).default(100),
}).strict();

export const bulkIds = z.object({ ids: z.array(z.uuid()).min(1).max(MAX_BULK) }).strict();

export const channelFields = z.object({
  name,
  kind: z.enum(CHANNEL_KINDS),
  /** A URL (webhook, slack, teams) or an email address. */
  target: z.string().trim().min(3).max(2_000),
  minSeverity: severity.default('info'),
}).strict();

export const windowFields = z.object({
  deviceId: z.uuid().nullable().default(null),
  startsAt: z.coerce.date().refine((d) => Math.abs(d.getTime() - Date.now()) < 366 * 86_400_000, 'within a year of now'),
  endsAt: z.coerce.date(),
  reason: z.string().max(500).default(''),
}).strict().refine((w) => w.endsAt > w.startsAt && w.endsAt.getTime() - w.startsAt.getTime() <= MAX_WINDOW_MS,
  { message: 'a window ends after it starts and lasts at most 31 days' });
