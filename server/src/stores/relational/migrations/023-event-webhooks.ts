/**
 * Event webhooks (issue #19): an organization's subscriptions to domain events (device, command,
 * ticket and alert events), delivered through the same outbox and delivery log as the alerts'
 * notification channels. An outbox row now targets either a channel or a subscription (exactly
 * one), carries the event's id (sent as `X-NinjaIT-Event`, the same on a resend) and its type, so
 * the delivery log can show what was sent without reading payloads.
 */
export const eventWebhooks = `
CREATE TABLE webhook_subscriptions (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id UUID NOT NULL REFERENCES organizations(id),
  name VARCHAR(200) NOT NULL,
  url TEXT NOT NULL,
  signing_secret TEXT NOT NULL,
  event_types TEXT[] NOT NULL,
  enabled BOOLEAN NOT NULL DEFAULT TRUE,
  consecutive_failures INTEGER NOT NULL DEFAULT 0,
  last_success_at TIMESTAMPTZ,
  last_error TEXT,
  last_error_at TIMESTAMPTZ,
  created_by UUID,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE UNIQUE INDEX webhook_subscriptions_org_name_key ON webhook_subscriptions (organization_id, name);

ALTER TABLE notification_outbox ALTER COLUMN channel_id DROP NOT NULL;
ALTER TABLE notification_outbox ADD COLUMN subscription_id UUID REFERENCES webhook_subscriptions(id) ON DELETE CASCADE;
ALTER TABLE notification_outbox ADD COLUMN event_id UUID;
ALTER TABLE notification_outbox ADD COLUMN event_type VARCHAR(64);
ALTER TABLE notification_outbox ADD CONSTRAINT notification_outbox_one_destination
  CHECK ((channel_id IS NULL) <> (subscription_id IS NULL));
CREATE INDEX notification_outbox_subscription_idx ON notification_outbox (subscription_id, id DESC) WHERE subscription_id IS NOT NULL;

ALTER TABLE notification_deliveries ALTER COLUMN channel_id DROP NOT NULL;
ALTER TABLE notification_deliveries ADD COLUMN subscription_id UUID REFERENCES webhook_subscriptions(id) ON DELETE CASCADE;
CREATE INDEX notification_deliveries_subscription_idx ON notification_deliveries (subscription_id, id DESC) WHERE subscription_id IS NOT NULL;
`;
