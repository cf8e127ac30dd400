/**
 * Providers (MSPs) and their client organizations, and people who belong to several organizations.
 * A client organization names its provider (`provider_id`); a provider is flagged (`is_provider`)
 * by the people who run the server (their own organization is always one: see
 * features/providers/access.ts). One level only: a client is never itself a provider.
 * `memberships` holds each person's role in each organization they belong to; the home one
 * (`users.organization_id`, `users.role`) is mirrored there, so existing people are copied in.
 * Provider staff reach their provider's clients without rows here: their access is derived.
 */
export const providers = `
ALTER TABLE organizations ADD COLUMN is_provider BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE organizations ADD COLUMN provider_id UUID REFERENCES organizations(id);
CREATE INDEX organizations_provider_idx ON organizations (provider_id) WHERE provider_id IS NOT NULL;
CREATE TABLE memberships (
  user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  role VARCHAR(20) NOT NULL CHECK (role IN ('owner', 'admin', 'technician', 'viewer')),
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  PRIMARY KEY (user_id, organization_id)
);
CREATE INDEX memberships_org_idx ON memberships (organization_id);
INSERT INTO memberships (user_id, organization_id, role)
  SELECT id, organization_id, role FROM users WHERE removed_at IS NULL AND organization_id IS NOT NULL;
`;
