/**
 * Tickets grow SLA due times, closing times and comments; ticket changes are logged in
 * `ticket_event_log` in the same transaction, and an ETL copies the log to ClickHouse's
 * `ticket_events` from a cursor, so a ClickHouse outage delays analytics and loses nothing.
 */
export const tickets = `
ALTER TABLE tickets ADD COLUMN sla_due_at TIMESTAMPTZ;
ALTER TABLE tickets ADD COLUMN closed_at TIMESTAMPTZ;
ALTER TABLE tickets ADD COLUMN device_id UUID REFERENCES devices(id);
CREATE INDEX tickets_org_created_idx ON tickets (organization_id, created_at DESC);

CREATE TABLE ticket_comments (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  ticket_id UUID NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
  author_id UUID REFERENCES users(id),
  body TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX ticket_comments_ticket_idx ON ticket_comments (ticket_id, created_at);

CREATE TABLE ticket_event_log (
  id BIGSERIAL PRIMARY KEY,
  ticket_id UUID NOT NULL,
  organization_id UUID NOT NULL,
  event_type VARCHAR(32) NOT NULL,
  technician_id UUID,
  duration_seconds INTEGER NOT NULL DEFAULT 0,
  sla_breached BOOLEAN NOT NULL DEFAULT FALSE,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

CREATE TABLE analytics_cursors (
  name VARCHAR(64) PRIMARY KEY,
  position BIGINT NOT NULL DEFAULT 0,
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

CREATE TABLE job_leases (
  name VARCHAR(64) PRIMARY KEY,
  owner VARCHAR(128) NOT NULL,
  lease_until TIMESTAMPTZ NOT NULL
);
`;
