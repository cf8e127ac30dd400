import { z } from 'zod';
import { WEBHOOK_EVENT_TYPES } from '@ninjait/shared';

export const eventTypes = z.array(z.enum(WEBHOOK_EVENT_TYPES)).min(1).max(WEBHOOK_EVENT_TYPES.length);

export const subscriptionFields = z.object({
  name: z.string().trim().min(1).max(200),
  url: z.string().trim().min(1).max(2_000),
  eventTypes,
  enabled: z.boolean().default(true),
}).strict();

export const subscriptionChanges = z.object({
  id: z.uuid(),
  enabled: z.boolean().optional(),
  eventTypes: eventTypes.optional(),
}).strict();

export const deliveriesInput = z.object({ id: z.uuid(), limit: z.number().int().min(1).max(500).default(50) }).strict();

export const resendInput = z.object({ id: z.uuid(), eventId: z.uuid() }).strict();
