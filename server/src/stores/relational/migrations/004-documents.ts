/**
 * The embedded document store: the `logs` and `audit_log` collections as JSONB tables.
 * The fields the queries filter and sort on are also columns, so B-tree indexes serve
 * "errors in the last hour, newest first" and audit lookups; GIN serves ad hoc containment queries.
 */
export const documents = `
CREATE TABLE logs (
  id TEXT PRIMARY KEY,
  ts TIMESTAMPTZ NOT NULL,
  level VARCHAR(8) NOT NULL,
  organization_id UUID,
  device_id UUID,
  doc JSONB NOT NULL
);

CREATE INDEX logs_level_ts ON logs (level, ts DESC);

CREATE INDEX logs_org_level_ts ON logs (organization_id, level, ts DESC) WHERE organization_id IS NOT NULL;

CREATE INDEX logs_device_ts ON logs (device_id, ts DESC) WHERE device_id IS NOT NULL;

CREATE INDEX logs_ts ON logs (ts);

CREATE INDEX logs_doc ON logs USING GIN (doc jsonb_path_ops);

CREATE TABLE audit_log (
  id UUID PRIMARY KEY,
  ts TIMESTAMPTZ NOT NULL,
  organization_id UUID NOT NULL,
  user_id UUID,
  action VARCHAR(64) NOT NULL,
  resource_id TEXT,
  doc JSONB NOT NULL
);

CREATE INDEX audit_log_org_ts ON audit_log (organization_id, ts DESC);

CREATE INDEX audit_log_org_user_ts ON audit_log (organization_id, user_id, ts DESC);

CREATE INDEX audit_log_org_action_ts ON audit_log (organization_id, action, ts DESC);

CREATE INDEX audit_log_doc ON audit_log USING GIN (doc jsonb_path_ops);
`;
