/**
 * A device's identity is its secret, not its machine key: a second enrollment of a known
 * machine without the current secret becomes a device of its own, waiting for an admin
 * (`approval_state = 'pending'`, `claims_device_id` = the device whose key it presented).
 * An admin approves it, lets it replace the claimed device (`replaced_device_id` links the
 * history) or rejects it. Two devices may now share a machine key (a pending claim, or a
 * cloned machine an admin approved), so the key's index is no longer unique; enrollment
 * serialises on the key with an advisory lock instead.
 */
export const deviceApproval = `
ALTER TABLE devices ADD COLUMN approval_state VARCHAR(16) NOT NULL DEFAULT 'approved'
  CHECK (approval_state IN ('approved', 'pending', 'rejected'));
ALTER TABLE devices ADD COLUMN pending_reason VARCHAR(64);
ALTER TABLE devices ADD COLUMN claims_device_id UUID REFERENCES devices(id);
ALTER TABLE devices ADD COLUMN replaced_device_id UUID REFERENCES devices(id);
DROP INDEX devices_org_machine_key_idx;
CREATE INDEX devices_org_machine_key_idx ON devices (organization_id, machine_key)
  WHERE machine_key IS NOT NULL AND decommissioned_at IS NULL;
-- The console's "waiting for approval" list, without scanning the fleet.
CREATE INDEX devices_org_pending_idx ON devices (organization_id, created_at)
  WHERE approval_state = 'pending' AND decommissioned_at IS NULL;
`;
