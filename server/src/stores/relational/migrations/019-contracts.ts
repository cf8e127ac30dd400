/**
 * Contracts: what an organization pays, in its own currency, for a term of whole months. Billing
 * reads the contract in force on each day it bills; an organization without one pays the list
 * prices (features/billing/rates.ts). Terms of one organization never overlap (the repository
 * checks it in a transaction, since PGlite has no btree_gist for an exclusion constraint).
 */
export const contracts = `
CREATE TABLE contracts (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  price_per_device NUMERIC(12, 4) NOT NULL CHECK (price_per_device >= 0),
  price_per_api_call NUMERIC(12, 6) NOT NULL CHECK (price_per_api_call >= 0),
  price_per_gb NUMERIC(12, 4) NOT NULL CHECK (price_per_gb >= 0),
  currency CHAR(3) NOT NULL,
  starts_on DATE NOT NULL,
  ends_on DATE,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  created_by UUID REFERENCES users(id) ON DELETE SET NULL,
  CHECK (ends_on IS NULL OR ends_on >= starts_on)
);
CREATE INDEX contracts_org_idx ON contracts (organization_id, starts_on);
`;
