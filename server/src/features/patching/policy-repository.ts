import type { RelationalStore, SqlExecutor } from '../../stores/relational/index.ts';
import { AppError, isUniqueViolation, notFound } from '../../platform/errors.ts';
import { DEFAULT_POLICY, type PatchPolicy } from './policy.ts';

/** A stored policy with where it applies: the organization, or a site, group or tag of it (`scopeValue` is its id). */
export interface ScopedPolicy extends PatchPolicy {
  id: string;
  organizationId: string;
  scopeKind: ScopeKind;
  scopeValue: string | null;
  /** Devices the policy skips: they fall through to the next less specific policy. */
  excludedDeviceIds: string[];
  createdAt: Date;
  updatedAt: Date;
}

/** Where a policy applies, as the fleet names scopes (fleet/scope.ts SCOPE_KINDS). */
export type ScopeKind = 'organization' | 'site' | 'group' | 'tag';

/** A scope the caller checked belongs to the organization (fleet's checkScope). */
export interface CheckedScope { scopeKind: ScopeKind; scopeValue: string | null }

const POLICY_FIELDS = `p.name, p.approve_classifications AS "approveClassifications", p.approve_severities AS "approveSeverities",
  p.approve_name_patterns AS "approveNamePatterns", p.exclude_name_patterns AS "excludeNamePatterns", p.auto_approve AS "autoApprove",
  p.deferral_days AS "deferralDays", p.window_cron AS "windowCron", p.window_tz AS "windowTz", p.window_duration_min AS "windowDurationMin",
  p.reboot, p.reboot_notice_min AS "rebootNoticeMin"`;
const SCOPED_COLUMNS = `p.id, p.organization_id AS "organizationId", p.scope_kind AS "scopeKind", p.scope_value::text AS "scopeValue", ${POLICY_FIELDS},
  COALESCE((SELECT array_agg(e.device_id::text ORDER BY e.device_id) FROM patch_policy_exclusions e WHERE e.policy_id = p.id), '{}') AS "excludedDeviceIds",
  p.created_at AS "createdAt", p.updated_at AS "updatedAt"`;
const VALUES = (p: PatchPolicy) => [p.name, p.approveClassifications, p.approveSeverities, p.approveNamePatterns, p.excludeNamePatterns, p.autoApprove,
  p.deferralDays, p.windowCron, p.windowTz, p.windowDurationMin, p.reboot, p.rebootNoticeMin];

/** The organization-wide policy (what applies where no narrower one does), or the defaults. */
export async function getPolicy(db: SqlExecutor, organizationId: string): Promise<PatchPolicy> {
  const { rows } = await db.query<PatchPolicy>(
    `SELECT ${POLICY_FIELDS} FROM patch_policies p WHERE p.organization_id = $1 AND p.scope_kind = 'organization'`, [organizationId]);
  return rows[0] ?? DEFAULT_POLICY;
}

/** Creates or replaces the organization-wide policy. */
export async function savePolicy(db: SqlExecutor, organizationId: string, p: PatchPolicy): Promise<void> {
  await db.query(
    `INSERT INTO patch_policies (organization_id, name, approve_classifications, approve_severities, approve_name_patterns,
       exclude_name_patterns, auto_approve, deferral_days, window_cron, window_tz, window_duration_min, reboot, reboot_notice_min)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
     ON CONFLICT (organization_id) WHERE scope_kind = 'organization' DO UPDATE SET name = EXCLUDED.name,
       approve_classifications = EXCLUDED.approve_classifications, approve_severities = EXCLUDED.approve_severities,
       approve_name_patterns = EXCLUDED.approve_name_patterns, exclude_name_patterns = EXCLUDED.exclude_name_patterns,
       auto_approve = EXCLUDED.auto_approve, deferral_days = EXCLUDED.deferral_days, window_cron = EXCLUDED.window_cron,
       window_tz = EXCLUDED.window_tz, window_duration_min = EXCLUDED.window_duration_min, reboot = EXCLUDED.reboot,
       reboot_notice_min = EXCLUDED.reboot_notice_min, updated_at = NOW()`,
    [organizationId, ...VALUES(p)]);
}

/** Every policy of the organization, organization-wide first, then by scope kind and age. */
export async function listPolicies(db: SqlExecutor, organizationId: string): Promise<ScopedPolicy[]> {
  const { rows } = await db.query<ScopedPolicy>(
    `SELECT ${SCOPED_COLUMNS} FROM patch_policies p WHERE p.organization_id = $1
     ORDER BY CASE p.scope_kind WHEN 'organization' THEN 0 WHEN 'site' THEN 1 WHEN 'group' THEN 2 ELSE 3 END, p.created_at, p.id`,
    [organizationId]);
  return rows;
}

export async function getScopedPolicy(db: SqlExecutor, organizationId: string, id: string): Promise<ScopedPolicy> {
  const { rows } = await db.query<ScopedPolicy>(`SELECT ${SCOPED_COLUMNS} FROM patch_policies p WHERE p.id = $1 AND p.organization_id = $2`, [id, organizationId]);
  if (!rows[0]) throw notFound('Patch policy');
  return rows[0];
}

/** Exclusions name the organization's own devices only: another organization's device is not found. */
async function assertOwnDevices(db: SqlExecutor, organizationId: string, deviceIds: readonly string[]) {
  const unique = [...new Set(deviceIds)];
  if (unique.length === 0) return;
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM devices WHERE organization_id = $1 AND id = ANY($2::uuid[])', [organizationId, unique]);
  if (rows[0]!.n !== unique.length) throw notFound('Device');
}

async function replaceExclusions(db: SqlExecutor, organizationId: string, policyId: string, deviceIds: readonly string[]) {
  await db.query('DELETE FROM patch_policy_exclusions WHERE policy_id = $1', [policyId]);
  const unique = [...new Set(deviceIds)];
  if (unique.length > 0) {
    await db.query('INSERT INTO patch_policy_exclusions (policy_id, organization_id, device_id) SELECT $1, $2, unnest($3::uuid[])', [policyId, organizationId, unique]);
  }
}

const scopeTaken = (kind: ScopeKind) => new AppError('CONFLICT', kind === 'organization'
  ? 'The organization already has its organization-wide policy; change that one'
  : `That ${kind} already has a patch policy; change that one`);

/** A new policy for a scope the organization owns (checked by the caller); one policy per scope. */
export async function createPolicy(db: RelationalStore, organizationId: string, checked: CheckedScope, policy: PatchPolicy, excludedDeviceIds: readonly string[]): Promise<ScopedPolicy> {
  await assertOwnDevices(db, organizationId, excludedDeviceIds);
  return db.transaction(async (tx) => {
    let id: string;
    try {
      const { rows } = await tx.query<{ id: string }>(
        `INSERT INTO patch_policies (organization_id, scope_kind, scope_value, name, approve_classifications, approve_severities, approve_name_patterns,
           exclude_name_patterns, auto_approve, deferral_days, window_cron, window_tz, window_duration_min, reboot, reboot_notice_min)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id`,
        [organizationId, checked.scopeKind, checked.scopeValue, ...VALUES(policy)]);
      id = rows[0]!.id;
    } catch (error) {
      if (isUniqueViolation(error)) throw scopeTaken(checked.scopeKind);
      throw error;
    }
    await replaceExclusions(tx, organizationId, id, excludedDeviceIds);
    return getScopedPolicy(tx, organizationId, id);
  });
}

/** Replaces a policy's rules; its scope and exclusions change only when given. */
export async function updatePolicy(db: RelationalStore, organizationId: string, id: string, policy: PatchPolicy,
  changes: { scope?: CheckedScope | undefined; excludedDeviceIds?: readonly string[] | undefined }): Promise<ScopedPolicy> {
  const current = await getScopedPolicy(db, organizationId, id);
  const scope = changes.scope ?? { scopeKind: current.scopeKind, scopeValue: current.scopeValue };
  if (changes.excludedDeviceIds) await assertOwnDevices(db, organizationId, changes.excludedDeviceIds);
  return db.transaction(async (tx) => {
    try {
      await tx.query(
        `UPDATE patch_policies SET scope_kind = $3, scope_value = $4, name = $5, approve_classifications = $6, approve_severities = $7,
           approve_name_patterns = $8, exclude_name_patterns = $9, auto_approve = $10, deferral_days = $11, window_cron = $12, window_tz = $13,
           window_duration_min = $14, reboot = $15, reboot_notice_min = $16, updated_at = NOW()
         WHERE id = $1 AND organization_id = $2`,
        [id, organizationId, scope.scopeKind, scope.scopeValue, ...VALUES(policy)]);
    } catch (error) {
      if (isUniqueViolation(error)) throw scopeTaken(scope.scopeKind);
      throw error;
    }
    if (changes.excludedDeviceIds) await replaceExclusions(tx, organizationId, id, changes.excludedDeviceIds);
    return getScopedPolicy(tx, organizationId, id);
  });
}

export async function deletePolicy(db: SqlExecutor, organizationId: string, id: string): Promise<void> {
  const { rowCount } = await db.query('DELETE FROM patch_policies WHERE id = $1 AND organization_id = $2', [id, organizationId]);
  if (rowCount === 0) throw notFound('Patch policy');
}

/** Organizations where some policy, at any scope, deploys approved updates on its own. */
export async function autoApproveOrganizations(db: SqlExecutor): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>('SELECT DISTINCT organization_id AS id FROM patch_policies WHERE auto_approve');
  return rows.map((row) => row.id);
}
