/**
 * OpenID Connect client secrets encrypted at rest (issue #19). `client_secret_sealed` holds the
 * secret sealed with AES-256-GCM under the server's key (SECRETS_KEY, or the key file in DATA_DIR;
 * platform/secret-box.ts). The key never reaches the database, so SQL cannot encrypt: a row still
 * carrying a plaintext `client_secret` is marked for sealing, and the server seals every such row
 * (and clears the plaintext) at start, before it serves (features/auth sealStoredClientSecrets).
 * New secrets are written sealed only.
 */
export const sealedSecrets = `
ALTER TABLE organization_sso ALTER COLUMN client_secret DROP NOT NULL;
ALTER TABLE organization_sso ADD COLUMN client_secret_sealed VARCHAR(2048);
ALTER TABLE organization_sso ADD CONSTRAINT organization_sso_secret_kept CHECK (client_secret IS NOT NULL OR client_secret_sealed IS NOT NULL);
`;
