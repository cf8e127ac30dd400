/**
 * The structure of the fleet (issue #16): sites, tags, typed custom fields and saved dynamic
 * groups, all per organization. Links between a device and a site, tag or field carry the
 * organization in their foreign keys, so the database itself refuses to hang a device of one
 * organization on another's site, tag or field. A custom value sits in the column of its type, so a
 * group filter compares numbers as numbers and dates as dates. A group stores its filter (JSON,
 * checked and bounded by the server) and is evaluated when read: membership is never stale.
 */
export const fleet = `
CREATE UNIQUE INDEX devices_org_id_key ON devices (organization_id, id);

CREATE TABLE sites (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id UUID NOT NULL REFERENCES organizations(id),
  name VARCHAR(200) NOT NULL,
  address VARCHAR(1000) NOT NULL DEFAULT '',
  notes VARCHAR(4000) NOT NULL DEFAULT '',
  timezone VARCHAR(64) NOT NULL DEFAULT 'UTC',
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  UNIQUE (organization_id, id)
);
CREATE UNIQUE INDEX sites_org_name_key ON sites (organization_id, lower(name));

ALTER TABLE devices ADD COLUMN site_id UUID;
ALTER TABLE devices ADD CONSTRAINT devices_site_fk FOREIGN KEY (organization_id, site_id)
  REFERENCES sites (organization_id, id) ON DELETE SET NULL (site_id);
CREATE INDEX devices_site_idx ON devices (site_id) WHERE site_id IS NOT NULL;

CREATE TABLE tags (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id UUID NOT NULL REFERENCES organizations(id),
  name VARCHAR(64) NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  UNIQUE (organization_id, id)
);
CREATE UNIQUE INDEX tags_org_name_key ON tags (organization_id, lower(name));

CREATE TABLE device_tags (
  organization_id UUID NOT NULL,
  device_id UUID NOT NULL,
  tag_id UUID NOT NULL,
  PRIMARY KEY (device_id, tag_id),
  FOREIGN KEY (organization_id, device_id) REFERENCES devices (organization_id, id) ON DELETE CASCADE,
  FOREIGN KEY (organization_id, tag_id) REFERENCES tags (organization_id, id) ON DELETE CASCADE
);
CREATE INDEX device_tags_tag_idx ON device_tags (tag_id, device_id);

CREATE TABLE custom_fields (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id UUID NOT NULL REFERENCES organizations(id),
  name VARCHAR(100) NOT NULL,
  type VARCHAR(16) NOT NULL CHECK (type IN ('text', 'number', 'boolean', 'date', 'select')),
  options JSONB NOT NULL DEFAULT '[]',
  required BOOLEAN NOT NULL DEFAULT FALSE,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  UNIQUE (organization_id, id)
);
CREATE UNIQUE INDEX custom_fields_org_name_key ON custom_fields (organization_id, lower(name));

CREATE TABLE device_field_values (
  organization_id UUID NOT NULL,
  device_id UUID NOT NULL,
  field_id UUID NOT NULL,
  value_text VARCHAR(2000),
  value_number DOUBLE PRECISION,
  value_boolean BOOLEAN,
  value_date DATE,
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  PRIMARY KEY (device_id, field_id),
  FOREIGN KEY (organization_id, device_id) REFERENCES devices (organization_id, id) ON DELETE CASCADE,
  FOREIGN KEY (organization_id, field_id) REFERENCES custom_fields (organization_id, id) ON DELETE CASCADE
);
CREATE INDEX device_field_values_field_idx ON device_field_values (field_id);

CREATE TABLE device_groups (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id UUID NOT NULL REFERENCES organizations(id),
  name VARCHAR(200) NOT NULL,
  description VARCHAR(1000) NOT NULL DEFAULT '',
  filter JSONB NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE UNIQUE INDEX device_groups_org_name_key ON device_groups (organization_id, lower(name));

CREATE INDEX alert_rules_scope_idx ON alert_rules (scope_kind, scope_value) WHERE scope_kind <> 'organization';
`;
