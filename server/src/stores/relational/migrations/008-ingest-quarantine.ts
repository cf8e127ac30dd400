/**
 * Dead letters of the ingest path: records the server took (and acked) but will not store.
 * `sink` is the store that could not write the row (`log_id` is its ingest-log id), or
 * 'ingest' for a record set aside on arrival (its collection time is outside the accepted
 * window), which never entered the log. The payload is kept as sent, so a person can see what
 * arrived and a fixed sink could replay it. `collected_at_ms` is the agent's number as sent:
 * a quarantined time may lie outside what a timestamp column or a JavaScript Date holds.
 */
export const ingestQuarantine = `
CREATE TABLE ingest_quarantine (
  id BIGSERIAL PRIMARY KEY,
  sink VARCHAR(64) NOT NULL,
  log_id BIGINT,
  device_id UUID NOT NULL,
  organization_id UUID NOT NULL,
  seq BIGINT NOT NULL,
  kind VARCHAR(16) NOT NULL,
  collected_at_ms BIGINT,
  reason TEXT NOT NULL,
  payload JSON NOT NULL,
  quarantined_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
-- A drainer that crashes after quarantining replays the batch: the row is set aside once per sink.
CREATE UNIQUE INDEX ingest_quarantine_sink_log_idx ON ingest_quarantine (sink, log_id) WHERE log_id IS NOT NULL;
-- The console lists an organization's rows newest first, optionally for one device.
CREATE INDEX ingest_quarantine_org_idx ON ingest_quarantine (organization_id, id DESC);
CREATE INDEX ingest_quarantine_device_idx ON ingest_quarantine (device_id, id DESC);
-- Retention deletes by age.
CREATE INDEX ingest_quarantine_age_idx ON ingest_quarantine (quarantined_at);
`;
