/**
 * Alerts and notifications (issue #16). Rules belong to an organization and a scope (`scope_kind`
 * stays general: sites, groups and tags come later). `alert_condition_state` is the evaluator's
 * memory per rule, device and subject (a mount, an interface), with the last ingest-log id it
 * saw, so a replay after a crash changes nothing. An alert is unique per dedupe key while it is
 * not resolved. Transitions go to `alert_event_log` in the same transaction; an ETL copies them
 * to ClickHouse's `alert_events`. Notifications leave through `notification_outbox` (claimed
 * with a lease, one row per transition and channel, keyed for idempotency); every attempt is a
 * row of `notification_deliveries`.
 */
export const alerts = `
CREATE TABLE alert_rules (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id UUID NOT NULL REFERENCES organizations(id),
  name VARCHAR(200) NOT NULL,
  scope_kind VARCHAR(32) NOT NULL DEFAULT 'organization',
  scope_value VARCHAR(255),
  condition JSONB NOT NULL,
  severity VARCHAR(16) NOT NULL DEFAULT 'warning',
  channel_ids UUID[] NOT NULL DEFAULT '{}',
  open_ticket BOOLEAN NOT NULL DEFAULT FALSE,
  close_ticket_on_resolve BOOLEAN NOT NULL DEFAULT TRUE,
  enabled BOOLEAN NOT NULL DEFAULT TRUE,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE UNIQUE INDEX alert_rules_org_name_key ON alert_rules (organization_id, name);

CREATE TABLE alert_exclusions (
  rule_id UUID NOT NULL REFERENCES alert_rules(id) ON DELETE CASCADE,
  device_id UUID NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  PRIMARY KEY (rule_id, device_id)
);

CREATE TABLE alert_condition_state (
  rule_id UUID NOT NULL REFERENCES alert_rules(id) ON DELETE CASCADE,
  device_id UUID NOT NULL,
  subject VARCHAR(512) NOT NULL DEFAULT '',
  breaching_since TIMESTAMPTZ,
  firing BOOLEAN NOT NULL DEFAULT FALSE,
  last_counter DOUBLE PRECISION,
  last_at TIMESTAMPTZ,
  last_log_id BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (rule_id, device_id, subject)
);

CREATE TABLE alerts (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id UUID NOT NULL REFERENCES organizations(id),
  rule_id UUID NOT NULL REFERENCES alert_rules(id) ON DELETE CASCADE,
  device_id UUID NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  subject VARCHAR(512) NOT NULL DEFAULT '',
  dedupe_key VARCHAR(700) NOT NULL,
  state VARCHAR(16) NOT NULL,
  severity VARCHAR(16) NOT NULL,
  title TEXT NOT NULL,
  value DOUBLE PRECISION,
  muted BOOLEAN NOT NULL DEFAULT FALSE,
  flapping BOOLEAN NOT NULL DEFAULT FALSE,
  ticket_id UUID,
  ticket_closed BOOLEAN NOT NULL DEFAULT FALSE,
  opened_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  acknowledged_at TIMESTAMPTZ,
  acknowledged_by UUID,
  resolved_at TIMESTAMPTZ,
  resolved_by UUID,
  resolution VARCHAR(16)
);
CREATE UNIQUE INDEX alerts_active_dedupe_key ON alerts (dedupe_key) WHERE state <> 'resolved';
CREATE INDEX alerts_org_opened_idx ON alerts (organization_id, opened_at DESC);
CREATE INDEX alerts_device_opened_idx ON alerts (device_id, opened_at DESC);
CREATE INDEX alerts_dedupe_opened_idx ON alerts (dedupe_key, opened_at DESC);

CREATE TABLE alert_event_log (
  id BIGSERIAL PRIMARY KEY,
  alert_id UUID NOT NULL,
  organization_id UUID NOT NULL,
  device_id UUID NOT NULL,
  rule_id UUID NOT NULL,
  event_type VARCHAR(32) NOT NULL,
  severity VARCHAR(16) NOT NULL,
  actor_id UUID,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX alert_event_log_alert_idx ON alert_event_log (alert_id, id);

CREATE TABLE maintenance_windows (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id UUID NOT NULL REFERENCES organizations(id),
  device_id UUID REFERENCES devices(id) ON DELETE CASCADE,
  starts_at TIMESTAMPTZ NOT NULL,
  ends_at TIMESTAMPTZ NOT NULL,
  reason VARCHAR(500) NOT NULL DEFAULT '',
  created_by UUID,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  CHECK (ends_at > starts_at)
);
CREATE INDEX maintenance_windows_org_idx ON maintenance_windows (organization_id, ends_at);

CREATE TABLE notification_channels (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id UUID NOT NULL REFERENCES organizations(id),
  name VARCHAR(200) NOT NULL,
  kind VARCHAR(16) NOT NULL,
  target TEXT NOT NULL,
  signing_secret TEXT,
  min_severity VARCHAR(16) NOT NULL DEFAULT 'info',
  consecutive_failures INTEGER NOT NULL DEFAULT 0,
  last_success_at TIMESTAMPTZ,
  last_error TEXT,
  last_error_at TIMESTAMPTZ,
  last_digest_at TIMESTAMPTZ,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE UNIQUE INDEX notification_channels_org_name_key ON notification_channels (organization_id, name);

CREATE TABLE notification_outbox (
  id BIGSERIAL PRIMARY KEY,
  channel_id UUID NOT NULL REFERENCES notification_channels(id) ON DELETE CASCADE,
  organization_id UUID NOT NULL,
  idempotency_key VARCHAR(300) NOT NULL UNIQUE,
  alert_id UUID,
  payload JSONB NOT NULL,
  state VARCHAR(16) NOT NULL DEFAULT 'pending',
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  lease_owner VARCHAR(128),
  lease_until TIMESTAMPTZ,
  sent_at TIMESTAMPTZ,
  digest_id BIGINT,
  last_error TEXT,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX notification_outbox_due_idx ON notification_outbox (next_attempt_at) WHERE state = 'pending';

CREATE TABLE notification_deliveries (
  id BIGSERIAL PRIMARY KEY,
  outbox_id BIGINT NOT NULL,
  channel_id UUID NOT NULL REFERENCES notification_channels(id) ON DELETE CASCADE,
  organization_id UUID NOT NULL,
  attempt INTEGER NOT NULL,
  ok BOOLEAN NOT NULL,
  status_code INTEGER,
  error TEXT,
  messages INTEGER NOT NULL DEFAULT 1,
  duration_ms INTEGER NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX notification_deliveries_channel_idx ON notification_deliveries (channel_id, id DESC);
`;
