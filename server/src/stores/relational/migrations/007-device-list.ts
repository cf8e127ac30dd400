/**
 * The console's fleet table pages through `devices` by keyset (see features/devices/device-list.ts): one
 * index per sort, each leading with the organization and ending with `id`, so a page of any size
 * is an index range read, whatever the fleet's size. The status index also serves the status
 * filter and replaces `devices_org_status_idx`, which no query used on its own.
 */
export const deviceList = `
CREATE INDEX devices_org_name_idx ON devices (organization_id, lower(name), id) WHERE decommissioned_at IS NULL;
CREATE INDEX devices_org_status_name_idx ON devices (organization_id, status, lower(name), id) WHERE decommissioned_at IS NULL;
-- Never-seen devices sort as the epoch, so the key has no NULLs and a cursor can hold it.
CREATE INDEX devices_org_last_seen_idx ON devices (organization_id, COALESCE(last_seen, 'epoch'::timestamptz), id)
  WHERE decommissioned_at IS NULL;
DROP INDEX devices_org_status_idx;
`;
