/**
 * Configuration data and hardware assets.
 * - Settings: one JSONB object per organization and per device, validated by the settings
 *   feature's schema before it is written (the column only bounds its size, as a last guard).
 * - Assets: hardware the organization owns, enrolled or not (docks, monitors, spare laptops). A
 *   device links to at most one asset and an asset to at most one device: the unique device_id.
 */
export const settingsAssets = `
CREATE TABLE organization_settings (
  organization_id UUID PRIMARY KEY REFERENCES organizations(id) ON DELETE CASCADE,
  settings JSONB NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(settings) = 'object' AND length(settings::text) <= 16384),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_by UUID REFERENCES users(id) ON DELETE SET NULL
);
CREATE TABLE device_settings (
  device_id UUID PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
  organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  settings JSONB NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(settings) = 'object' AND length(settings::text) <= 16384),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_by UUID REFERENCES users(id) ON DELETE SET NULL
);
CREATE TABLE assets (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  serial TEXT,
  manufacturer TEXT,
  model TEXT,
  purchase_date DATE,
  warranty_end DATE,
  assignee TEXT,
  location TEXT,
  notes TEXT,
  device_id UUID UNIQUE REFERENCES devices(id) ON DELETE SET NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX assets_org_name_idx ON assets (organization_id, name);
CREATE INDEX assets_org_warranty_idx ON assets (organization_id, warranty_end);
CREATE UNIQUE INDEX assets_org_serial_idx ON assets (organization_id, kind, serial) WHERE serial IS NOT NULL;
`;
