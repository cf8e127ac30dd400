/**
 * People's sessions, for deployments whose cache is in-process (the embedded default): a
 * restart empties that cache, and with it everyone's login. With Redis/Dragonfly sessions stay
 * in the cache, which outlives the server; this table is then unused.
 *
 * The key is the SHA-256 of the session token, never the token, so a copy of the database
 * cannot be replayed as logins. The row carries what the session was opened with (role and
 * organization at login): a role or password change ends the user's sessions instead of
 * editing them. Deleting a user deletes their sessions.
 */
export const sessions = `
CREATE TABLE sessions (
  token_hash CHAR(64) PRIMARY KEY,
  user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  organization_id UUID NOT NULL,
  email VARCHAR(255) NOT NULL,
  role VARCHAR(50) NOT NULL CHECK (role IN ('owner', 'admin', 'technician', 'viewer')),
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  expires_at TIMESTAMPTZ NOT NULL
);
-- "Log this user out everywhere" (role or password change) without a scan.
CREATE INDEX sessions_user_idx ON sessions (user_id);
-- Expired rows are deleted a few at a time as new sessions open.
CREATE INDEX sessions_expires_idx ON sessions (expires_at);
`;
