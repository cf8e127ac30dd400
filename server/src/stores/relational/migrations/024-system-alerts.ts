/**
 * Alerts about the server itself, for whoever runs it (not an organization's: a slow query's text
 * can name any tenant's rows). One active row per dedupe key (kind, store, operation): a
 * recurring condition counts occurrences on it instead of opening another.
 */
export const systemAlerts = `
CREATE TABLE system_alerts (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  kind VARCHAR(32) NOT NULL,
  dedupe_key VARCHAR(200) NOT NULL,
  state VARCHAR(16) NOT NULL,
  title TEXT NOT NULL,
  details JSONB NOT NULL DEFAULT '{}',
  occurrences INT NOT NULL DEFAULT 1,
  opened_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  last_seen_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  resolved_at TIMESTAMPTZ,
  resolution VARCHAR(16)
);
CREATE UNIQUE INDEX system_alerts_active_key ON system_alerts (dedupe_key) WHERE state <> 'resolved';
CREATE INDEX system_alerts_opened_idx ON system_alerts (opened_at DESC);
`;
