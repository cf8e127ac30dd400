/**
 * API keys for integrations (PSA tools, scripts): long-lived bearer credentials a person creates.
 * Only the SHA-256 of the key is kept (a copy of the database cannot be replayed), with the first
 * characters for people to recognise it. A key acts for its creator, so the creator's current role
 * and organization bound it; removing the creator ends its keys (the join checks `removed_at`).
 * Revoked and expired keys stay listed for the record.
 */
export const apiKeys = `
CREATE TABLE api_keys (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id UUID NOT NULL REFERENCES organizations(id),
  created_by UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name VARCHAR(100) NOT NULL,
  key_hash CHAR(64) NOT NULL UNIQUE,
  key_prefix VARCHAR(16) NOT NULL,
  scopes TEXT[] NOT NULL CHECK (cardinality(scopes) > 0),
  expires_at TIMESTAMPTZ,
  last_used_at TIMESTAMPTZ,
  last_used_ip VARCHAR(64),
  revoked_at TIMESTAMPTZ,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX api_keys_org_idx ON api_keys (organization_id, created_at DESC);
`;
