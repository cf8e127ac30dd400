/** The ingest log and the drainers' cursors: what makes "ack = durably stored" true. */
export const ingest = `
CREATE TABLE device_ingest_state (
  device_id UUID PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
  last_seq BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE ingest_log (
  id BIGSERIAL PRIMARY KEY,
  device_id UUID NOT NULL,
  organization_id UUID NOT NULL,
  seq BIGINT NOT NULL,
  kind VARCHAR(16) NOT NULL,
  collected_at TIMESTAMPTZ NOT NULL,
  received_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  source_ip INET,
  payload JSONB NOT NULL,
  UNIQUE (device_id, seq)
);

CREATE TABLE drain_cursors (
  sink VARCHAR(64) PRIMARY KEY,
  position BIGINT NOT NULL DEFAULT 0,
  owner VARCHAR(128),
  lease_until TIMESTAMPTZ,
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
`;
