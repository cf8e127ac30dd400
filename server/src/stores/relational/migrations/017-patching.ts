/**
 * Software inventory and patching. Current state per device (one row per package, service and
 * pending update, replaced by the agent's diffs); history goes to ClickHouse. Fleet searches
 * ("openssl older than 3.0.13", "security updates missing for 30 days") start from the
 * organization and the lower-cased name or the classification and first-seen time.
 * Patch policies attach to organizations (tags do not exist yet); deployments are one row
 * per device and run, the unit the `patch-deployment` queue works on.
 */
export const patching = `
CREATE TABLE device_software (
  device_id UUID NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  organization_id UUID NOT NULL,
  key TEXT NOT NULL,
  name TEXT NOT NULL,
  version TEXT NOT NULL,
  arch TEXT NOT NULL,
  publisher TEXT NOT NULL,
  source TEXT NOT NULL,
  installed_at TIMESTAMPTZ,
  PRIMARY KEY (device_id, key)
);
CREATE INDEX device_software_name_idx ON device_software (organization_id, lower(name));

CREATE TABLE device_services (
  device_id UUID NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  name TEXT NOT NULL,
  display_name TEXT NOT NULL,
  state TEXT NOT NULL,
  start_mode TEXT NOT NULL,
  PRIMARY KEY (device_id, key)
);

CREATE TABLE device_updates (
  device_id UUID NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  organization_id UUID NOT NULL,
  key TEXT NOT NULL,
  name TEXT NOT NULL,
  current_version TEXT NOT NULL,
  available_version TEXT NOT NULL,
  source TEXT NOT NULL,
  classification TEXT NOT NULL,
  severity TEXT NOT NULL,
  detail TEXT NOT NULL,
  first_seen_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  PRIMARY KEY (device_id, key)
);
CREATE INDEX device_updates_class_idx ON device_updates (organization_id, classification, first_seen_at);
CREATE INDEX device_updates_name_idx ON device_updates (organization_id, lower(name));

CREATE TABLE device_inventory_state (
  device_id UUID PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
  snapshot_hash TEXT NOT NULL,
  reboot_pending BOOLEAN NOT NULL DEFAULT FALSE,
  last_patched_at TIMESTAMPTZ,
  reported_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

CREATE TABLE patch_policies (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  approve_classifications TEXT[] NOT NULL DEFAULT '{}',
  approve_severities TEXT[] NOT NULL DEFAULT '{}',
  approve_name_patterns TEXT[] NOT NULL DEFAULT '{}',
  exclude_name_patterns TEXT[] NOT NULL DEFAULT '{}',
  auto_approve BOOLEAN NOT NULL DEFAULT FALSE,
  deferral_days INTEGER NOT NULL DEFAULT 0 CHECK (deferral_days BETWEEN 0 AND 365),
  window_cron TEXT,
  window_tz TEXT NOT NULL DEFAULT 'UTC',
  window_duration_min INTEGER NOT NULL DEFAULT 120 CHECK (window_duration_min BETWEEN 1 AND 1440),
  reboot TEXT NOT NULL DEFAULT 'if_required' CHECK (reboot IN ('never', 'if_required', 'always')),
  reboot_notice_min INTEGER NOT NULL DEFAULT 15 CHECK (reboot_notice_min BETWEEN 0 AND 1440),
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  UNIQUE (organization_id)
);

CREATE TABLE patch_approvals (
  organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  approved_by_label TEXT NOT NULL,
  approved_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  PRIMARY KEY (organization_id, name)
);

CREATE TABLE patch_deployments (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  device_id UUID NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  patches JSONB NOT NULL,
  status TEXT NOT NULL DEFAULT 'scheduled'
    CHECK (status IN ('scheduled', 'enqueued', 'ready', 'running', 'succeeded', 'failed', 'cancelled')),
  not_before TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  window_ends_at TIMESTAMPTZ,
  attempts INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL DEFAULT 3,
  results JSONB NOT NULL DEFAULT '[]',
  progress TEXT NOT NULL DEFAULT '',
  error TEXT,
  requested_by_label TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  finished_at TIMESTAMPTZ
);
CREATE INDEX patch_deployments_due_idx ON patch_deployments (status, not_before);
CREATE INDEX patch_deployments_device_idx ON patch_deployments (device_id, status);
CREATE INDEX patch_deployments_org_idx ON patch_deployments (organization_id, created_at DESC);
`;
