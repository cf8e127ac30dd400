/** Organizations, people, devices, enrollment and tickets: the seed's tables plus what enrollment needs. */
export const foundation = `
CREATE TABLE organizations (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  name VARCHAR(255) NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE UNIQUE INDEX organizations_name_key ON organizations (lower(name));

CREATE TABLE users (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  email VARCHAR(255) UNIQUE NOT NULL,
  password_hash VARCHAR(255) NOT NULL,
  role VARCHAR(50) NOT NULL CHECK (role IN ('owner', 'admin', 'technician', 'viewer')),
  organization_id UUID REFERENCES organizations(id),
  name VARCHAR(255),
  failed_logins INTEGER NOT NULL DEFAULT 0,
  locked_until TIMESTAMPTZ,
  created_at TIMESTAMPTZ DEFAULT NOW(),
  updated_at TIMESTAMPTZ DEFAULT NOW()
);
CREATE INDEX users_organization_id_idx ON users (organization_id);

CREATE TABLE devices (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  name VARCHAR(255) NOT NULL,
  organization_id UUID REFERENCES organizations(id),
  status VARCHAR(50) NOT NULL,
  os_type VARCHAR(50),
  os_version VARCHAR(100),
  ip_address INET,
  last_seen TIMESTAMPTZ,
  created_at TIMESTAMPTZ DEFAULT NOW(),
  machine_key VARCHAR(256),
  inventory JSONB,
  agent_version VARCHAR(64),
  report_interval_ms INTEGER NOT NULL DEFAULT 30000,
  dropped_total BIGINT NOT NULL DEFAULT 0,
  decommissioned_at TIMESTAMPTZ
);
CREATE INDEX devices_org_status_idx ON devices (organization_id, status);
-- "Online devices per organization" is the fleet view's hottest query.
CREATE INDEX devices_online_by_org_idx ON devices (organization_id) WHERE status = 'online';
-- Finds devices that went quiet without scanning the offline ones.
CREATE INDEX devices_online_last_seen_idx ON devices (last_seen) WHERE status = 'online';
-- One record per machine per organization, so re-enrollment reuses it.
CREATE UNIQUE INDEX devices_org_machine_key_idx ON devices (organization_id, machine_key)
  WHERE machine_key IS NOT NULL AND decommissioned_at IS NULL;

CREATE TABLE device_credentials (
  device_id UUID PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
  secret_hash CHAR(64) NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

CREATE TABLE enrollment_tokens (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id UUID NOT NULL REFERENCES organizations(id),
  token_hash CHAR(64) NOT NULL UNIQUE,
  name VARCHAR(255) NOT NULL,
  expires_at TIMESTAMPTZ NOT NULL,
  max_uses INTEGER NOT NULL CHECK (max_uses > 0),
  uses INTEGER NOT NULL DEFAULT 0,
  revoked_at TIMESTAMPTZ,
  created_by UUID REFERENCES users(id),
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX enrollment_tokens_org_active_idx ON enrollment_tokens (organization_id, created_at DESC)
  WHERE revoked_at IS NULL;

CREATE TABLE tickets (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  title VARCHAR(500) NOT NULL,
  description TEXT,
  status VARCHAR(50) NOT NULL,
  priority VARCHAR(50) NOT NULL,
  organization_id UUID REFERENCES organizations(id),
  assigned_to UUID REFERENCES users(id),
  created_by UUID REFERENCES users(id),
  created_at TIMESTAMPTZ DEFAULT NOW(),
  updated_at TIMESTAMPTZ DEFAULT NOW()
);
CREATE INDEX tickets_org_status_idx ON tickets (organization_id, status);
CREATE INDEX tickets_open_by_assignee_idx ON tickets (assigned_to) WHERE status <> 'closed';
`;
