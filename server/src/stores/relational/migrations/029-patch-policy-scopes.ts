/**
 * Patch policies attach to a scope of the fleet (issue #17): the organization, or one of its
 * sites, saved groups or tags, like alert rules do. One policy per scope; a device takes the most
 * specific policy that reaches it and does not exclude it (tag > group > site > organization).
 * The organization-wide policy stays unique per organization, so the existing upsert keeps working.
 * An exclusion carries the organization in its foreign key: a device of another organization
 * cannot be excluded from a policy, and a deleted device takes its exclusions with it.
 */
export const patchPolicyScopes = `
ALTER TABLE patch_policies DROP CONSTRAINT patch_policies_organization_id_key;
ALTER TABLE patch_policies ADD COLUMN scope_kind VARCHAR(32) NOT NULL DEFAULT 'organization'
  CHECK (scope_kind IN ('organization', 'site', 'group', 'tag'));
ALTER TABLE patch_policies ADD COLUMN scope_value UUID;
ALTER TABLE patch_policies ADD CONSTRAINT patch_policies_scope_value_check
  CHECK ((scope_kind = 'organization') = (scope_value IS NULL));
CREATE UNIQUE INDEX patch_policies_org_key ON patch_policies (organization_id) WHERE scope_kind = 'organization';
CREATE UNIQUE INDEX patch_policies_scope_key ON patch_policies (organization_id, scope_kind, scope_value) WHERE scope_kind <> 'organization';

CREATE TABLE patch_policy_exclusions (
  policy_id UUID NOT NULL REFERENCES patch_policies(id) ON DELETE CASCADE,
  organization_id UUID NOT NULL,
  device_id UUID NOT NULL,
  PRIMARY KEY (policy_id, device_id),
  FOREIGN KEY (organization_id, device_id) REFERENCES devices (organization_id, id) ON DELETE CASCADE
);
CREATE INDEX patch_policy_exclusions_device_idx ON patch_policy_exclusions (device_id);
`;
