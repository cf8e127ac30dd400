/**
 * The events an organization can subscribe a webhook to. Receivers see these names in the body's
 * `type` and in `X-NinjaIT-Event-Type`; the console offers them in its event picker.
 */
export const WEBHOOK_EVENT_TYPES = [
  'device.enrolled', 'device.offline', 'device.online', 'device.decommissioned',
  'command.finished', 'ticket.created', 'ticket.changed', 'alert.opened', 'alert.resolved',
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];
