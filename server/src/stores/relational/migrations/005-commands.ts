/** Remote commands, their output in ordered chunks, and bulk jobs that fan a script out to many devices. */
export const commands = `
CREATE TABLE commands (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id UUID NOT NULL REFERENCES organizations(id),
  device_id UUID NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  requested_by UUID REFERENCES users(id) ON DELETE SET NULL,
  requested_by_label VARCHAR(255) NOT NULL,
  bulk_job_id UUID,
  shell VARCHAR(16) NOT NULL,
  interpreter VARCHAR(16),
  script TEXT NOT NULL,
  timeout_sec INTEGER NOT NULL CHECK (timeout_sec > 0),
  status VARCHAR(16) NOT NULL DEFAULT 'queued'
    CHECK (status IN ('queued', 'sent', 'running', 'succeeded', 'failed', 'timed_out', 'cancelled', 'expired')),
  exit_code INTEGER,
  error TEXT,
  output_bytes INTEGER NOT NULL DEFAULT 0,
  output_truncated BOOLEAN NOT NULL DEFAULT FALSE,
  delivery_count INTEGER NOT NULL DEFAULT 0,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  expires_at TIMESTAMPTZ NOT NULL,
  sent_at TIMESTAMPTZ,
  started_at TIMESTAMPTZ,
  finished_at TIMESTAMPTZ,
  cancel_requested_at TIMESTAMPTZ,
  source_ip INET
);
-- The console's per-device and per-organization histories, newest first.
CREATE INDEX commands_device_created_idx ON commands (device_id, created_at DESC, id DESC);
CREATE INDEX commands_org_created_idx ON commands (organization_id, created_at DESC, id DESC);
-- What a reconnecting agent is owed, and what the expiry sweeper looks at: only unfinished rows.
CREATE INDEX commands_unfinished_idx ON commands (device_id, created_at)
  WHERE status IN ('queued', 'sent', 'running');
CREATE INDEX commands_bulk_job_idx ON commands (bulk_job_id) WHERE bulk_job_id IS NOT NULL;

CREATE TABLE command_output (
  command_id UUID NOT NULL REFERENCES commands(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  stream VARCHAR(8) NOT NULL CHECK (stream IN ('stdout', 'stderr')),
  data TEXT NOT NULL,
  received_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  PRIMARY KEY (command_id, seq)
);

CREATE TABLE bulk_jobs (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id UUID NOT NULL REFERENCES organizations(id),
  requested_by UUID REFERENCES users(id) ON DELETE SET NULL,
  requested_by_label VARCHAR(255) NOT NULL,
  name VARCHAR(255) NOT NULL,
  shell VARCHAR(16) NOT NULL,
  interpreter VARCHAR(16),
  script TEXT NOT NULL,
  timeout_sec INTEGER NOT NULL,
  expires_in_sec INTEGER NOT NULL,
  concurrency INTEGER NOT NULL CHECK (concurrency > 0),
  max_attempts INTEGER NOT NULL CHECK (max_attempts > 0),
  status VARCHAR(16) NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'completed', 'cancelled')),
  total INTEGER NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  finished_at TIMESTAMPTZ
);
CREATE INDEX bulk_jobs_org_created_idx ON bulk_jobs (organization_id, created_at DESC);

CREATE TABLE bulk_job_targets (
  job_id UUID NOT NULL REFERENCES bulk_jobs(id) ON DELETE CASCADE,
  device_id UUID NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  status VARCHAR(16) NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'enqueued', 'running', 'succeeded', 'failed', 'skipped')),
  attempts INTEGER NOT NULL DEFAULT 0,
  command_id UUID REFERENCES commands(id) ON DELETE SET NULL,
  exit_code INTEGER,
  error TEXT,
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  PRIMARY KEY (job_id, device_id)
);
CREATE INDEX bulk_job_targets_pending_idx ON bulk_job_targets (job_id) WHERE status = 'pending';
`;
