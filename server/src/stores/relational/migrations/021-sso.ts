/**
 * Single sign-on and password reset by email (issue #19).
 *
 * `organization_sso`: one OpenID Connect provider per organization. The client secret is kept here
 * because the server must send it to the provider's token endpoint; no read procedure returns it.
 * `email_domain` lets the login page find the organization from a work email. `role_rules` maps a
 * value of the `role_claim` claim to a role: [{ "value": "it-admins", "role": "admin" }, ...].
 *
 * `oidc_logins`: a sign-in under way, between the redirect to the provider and its return: the
 * state (kept as SHA-256), nonce and PKCE verifier stay on the server, spent once, expiring.
 *
 * `password_resets`: emailed reset links, kept as SHA-256 of the token, spent once, expiring.
 */
export const sso = `
CREATE TABLE organization_sso (
  organization_id UUID PRIMARY KEY REFERENCES organizations(id) ON DELETE CASCADE,
  issuer VARCHAR(500) NOT NULL,
  client_id VARCHAR(255) NOT NULL,
  client_secret VARCHAR(1024) NOT NULL,
  email_domain VARCHAR(255),
  role_claim VARCHAR(100) NOT NULL DEFAULT 'groups',
  role_rules JSONB NOT NULL DEFAULT '[]',
  sso_only BOOLEAN NOT NULL DEFAULT false,
  counts_as_two_factor BOOLEAN NOT NULL DEFAULT false,
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE UNIQUE INDEX organization_sso_email_domain_key ON organization_sso (email_domain);

CREATE TABLE oidc_logins (
  state_hash CHAR(64) PRIMARY KEY,
  organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  nonce VARCHAR(128) NOT NULL,
  code_verifier VARCHAR(128) NOT NULL,
  expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX oidc_logins_expires_at_idx ON oidc_logins (expires_at);

CREATE TABLE password_resets (
  token_hash CHAR(64) PRIMARY KEY,
  user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  expires_at TIMESTAMPTZ NOT NULL,
  used_at TIMESTAMPTZ,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX password_resets_user_id_idx ON password_resets (user_id);
`;
