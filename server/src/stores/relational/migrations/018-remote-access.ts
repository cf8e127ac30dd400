/**
 * Terminal recordings (asciicast v2), kept with the command history: one row per session (who,
 * device, when, size) and its events in order. Events are rows, not one growing value, so a
 * keystroke's echo costs an insert, not a rewrite of everything recorded so far. `bytes` is the
 * recorded size, capped by the service; `truncated` says that events past the cap were dropped.
 */
export const remoteAccess = `
CREATE TABLE shell_recordings (
  session_id UUID PRIMARY KEY,
  organization_id UUID NOT NULL REFERENCES organizations(id),
  device_id UUID NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  user_id UUID REFERENCES users(id) ON DELETE SET NULL,
  user_label TEXT NOT NULL,
  shell TEXT NOT NULL,
  pty BOOLEAN,
  cols INT NOT NULL,
  rows INT NOT NULL,
  started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  ended_at TIMESTAMPTZ,
  end_reason TEXT,
  bytes BIGINT NOT NULL DEFAULT 0,
  truncated BOOLEAN NOT NULL DEFAULT false
);
CREATE INDEX shell_recordings_device_idx ON shell_recordings (organization_id, device_id, started_at DESC);
CREATE TABLE shell_recording_events (
  session_id UUID NOT NULL REFERENCES shell_recordings(session_id) ON DELETE CASCADE,
  id BIGSERIAL,
  at_ms BIGINT NOT NULL,
  kind CHAR(1) NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (session_id, id)
);
`;
