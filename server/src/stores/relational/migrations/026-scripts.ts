/**
 * The script library (issue #16): saved scripts with typed parameters and immutable versions
 * (an edit adds a version; a run names the version it ran), runs on demand, on a schedule or as
 * an alert's remediation, and schedules (cron + IANA time zone). A run's per-device results are
 * the rows of the bulk job it started. Parameters reach the device as environment variables:
 * commands and bulk jobs carry them beside the script, never inside it.
 */
export const scripts = `
CREATE TABLE scripts (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id UUID NOT NULL REFERENCES organizations(id),
  name VARCHAR(200) NOT NULL,
  description VARCHAR(2000) NOT NULL DEFAULT '',
  language VARCHAR(16) NOT NULL CHECK (language IN ('shell', 'powershell', 'python')),
  target_os TEXT[] NOT NULL,
  current_version INTEGER NOT NULL DEFAULT 1,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  UNIQUE (organization_id, id)
);
CREATE UNIQUE INDEX scripts_org_name_key ON scripts (organization_id, lower(name));

CREATE TABLE script_versions (
  script_id UUID NOT NULL REFERENCES scripts(id) ON DELETE CASCADE,
  version INTEGER NOT NULL,
  body TEXT NOT NULL,
  parameters JSONB NOT NULL DEFAULT '[]',
  created_by UUID,
  created_by_label VARCHAR(320) NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  PRIMARY KEY (script_id, version)
);

CREATE TABLE script_schedules (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id UUID NOT NULL REFERENCES organizations(id),
  script_id UUID NOT NULL REFERENCES scripts(id) ON DELETE CASCADE,
  name VARCHAR(200) NOT NULL,
  cron VARCHAR(200) NOT NULL,
  timezone VARCHAR(64) NOT NULL,
  target_kind VARCHAR(16) NOT NULL CHECK (target_kind IN ('devices', 'organization', 'site', 'group', 'tag')),
  target_value UUID,
  device_ids UUID[] NOT NULL DEFAULT '{}',
  parameters JSONB NOT NULL DEFAULT '{}',
  enabled BOOLEAN NOT NULL DEFAULT TRUE,
  next_run_at TIMESTAMPTZ,
  last_run_at TIMESTAMPTZ,
  created_by UUID,
  created_by_label VARCHAR(320) NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX script_schedules_due_idx ON script_schedules (next_run_at) WHERE enabled;

CREATE TABLE script_runs (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id UUID NOT NULL REFERENCES organizations(id),
  script_id UUID NOT NULL REFERENCES scripts(id) ON DELETE CASCADE,
  version INTEGER NOT NULL,
  trigger VARCHAR(16) NOT NULL CHECK (trigger IN ('manual', 'schedule', 'remediation')),
  schedule_id UUID REFERENCES script_schedules(id) ON DELETE SET NULL,
  bulk_job_id UUID REFERENCES bulk_jobs(id) ON DELETE SET NULL,
  command_id UUID,
  alert_id UUID,
  parameters JSONB NOT NULL DEFAULT '{}',
  requested_by_label VARCHAR(320) NOT NULL,
  error VARCHAR(2000),
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX script_runs_script_idx ON script_runs (script_id, created_at DESC);

ALTER TABLE commands ADD COLUMN env JSONB;
ALTER TABLE bulk_jobs ADD COLUMN env JSONB;

ALTER TABLE alert_rules ADD COLUMN remediation_script_id UUID REFERENCES scripts(id) ON DELETE SET NULL;
ALTER TABLE alerts ADD COLUMN remediation_state VARCHAR(16)
  CHECK (remediation_state IN ('starting', 'running', 'succeeded', 'failed'));
ALTER TABLE alerts ADD COLUMN remediation_command_id UUID;
ALTER TABLE alerts ADD COLUMN remediation_exit_code INTEGER;
ALTER TABLE alerts ADD COLUMN remediation_error VARCHAR(2000);
ALTER TABLE alerts ADD COLUMN remediation_at TIMESTAMPTZ;
CREATE INDEX alerts_remediation_idx ON alerts (remediation_state) WHERE remediation_state IN ('starting', 'running');
`;
