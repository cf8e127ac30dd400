import { sql } from 'kysely';
import { anyUuid, typed, type RelationalStore, type SqlExecutor } from '../../stores/relational/index.ts';
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

const POLICY_FIELDS = [
  'p.name', 'p.approveClassifications', 'p.approveSeverities', 'p.approveNamePatterns', 'p.excludeNamePatterns', 'p.autoApprove',
  'p.deferralDays', 'p.windowCron', 'p.windowTz', 'p.windowDurationMin', 'p.reboot', 'p.rebootNoticeMin',
] as const;

/** What the schema leaves wider than the rows are: the enums the policy schema checked before writing. */
type PolicyNarrowing = Pick<PatchPolicy, 'approveClassifications' | 'approveSeverities' | 'reboot'>;

/** A policy's columns as written: every field of the policy. */
const policyValues = (p: PatchPolicy) => ({
  name: p.name, approveClassifications: p.approveClassifications, approveSeverities: p.approveSeverities,
  approveNamePatterns: p.approveNamePatterns, excludeNamePatterns: p.excludeNamePatterns, autoApprove: p.autoApprove,
  deferralDays: p.deferralDays, windowCron: p.windowCron, windowTz: p.windowTz, windowDurationMin: p.windowDurationMin,
  reboot: p.reboot, rebootNoticeMin: p.rebootNoticeMin,
});

/** Policies with their scope and exclusions, as `p`; the caller adds the filters. */
function selectScopedPolicies(db: SqlExecutor) {
  return typed(db).selectFrom('patchPolicies as p')
    .select((eb) => [
      'p.id', 'p.organizationId', 'p.scopeKind', sql<string | null>`${eb.ref('p.scopeValue')}::text`.as('scopeValue'), ...POLICY_FIELDS,
      eb.fn.coalesce(
        eb.selectFrom('patchPolicyExclusions as e')
          .select((inner) => sql<string[]>`array_agg(${inner.ref('e.deviceId')}::text ORDER BY ${inner.ref('e.deviceId')})`.as('deviceIds'))
          .whereRef('e.policyId', '=', 'p.id').$asScalar(),
        sql<string[]>`'{}'`,
      ).as('excludedDeviceIds'),
      'p.createdAt', 'p.updatedAt',
    ])
    .$narrowType<PolicyNarrowing & { scopeKind: ScopeKind; excludedDeviceIds: string[] }>();
}

/** The organization-wide policy (what applies where no narrower one does), or the defaults. */
export async function getPolicy(db: SqlExecutor, organizationId: string): Promise<PatchPolicy> {
  const row = await typed(db).selectFrom('patchPolicies as p').select(POLICY_FIELDS)
    .where('p.organizationId', '=', organizationId).where('p.scopeKind', '=', sql.lit('organization'))
    .$narrowType<PolicyNarrowing>()
    .executeTakeFirst();
  return row ?? DEFAULT_POLICY;
}

/** Creates or replaces the organization-wide policy. */
export async function savePolicy(db: SqlExecutor, organizationId: string, p: PatchPolicy): Promise<void> {
  const values = policyValues(p);
  await typed(db).insertInto('patchPolicies').values({ organizationId, ...values })
    // The organization-wide policy is unique per organization through a partial index: the conflict names its predicate.
    .onConflict((conflict) => conflict.column('organizationId').where('scopeKind', '=', sql.lit('organization'))
      .doUpdateSet((eb) => ({
        ...Object.fromEntries(Object.keys(values).map((column) => [column, eb.ref(`excluded.${column as keyof typeof values}`)])),
        updatedAt: sql<Date>`NOW()`,
      })))
    .execute();
}

/** Every policy of the organization, organization-wide first, then by scope kind and age. */
export async function listPolicies(db: SqlExecutor, organizationId: string): Promise<ScopedPolicy[]> {
  return selectScopedPolicies(db).where('p.organizationId', '=', organizationId)
    .orderBy((eb) => eb.case('p.scopeKind').when(sql.lit('organization')).then(sql.lit(0)).when(sql.lit('site')).then(sql.lit(1))
      .when(sql.lit('group')).then(sql.lit(2)).else(sql.lit(3)).end())
    .orderBy('p.createdAt').orderBy('p.id')
    .execute();
}

export async function getScopedPolicy(db: SqlExecutor, organizationId: string, id: string): Promise<ScopedPolicy> {
  const row = await selectScopedPolicies(db).where('p.id', '=', id).where('p.organizationId', '=', organizationId).executeTakeFirst();
  if (!row) throw notFound('Patch policy');
  return row;
}

/** Exclusions name the organization's own devices only: another organization's device is not found. */
async function assertOwnDevices(db: SqlExecutor, organizationId: string, deviceIds: readonly string[]) {
  const unique = [...new Set(deviceIds)];
  if (unique.length === 0) return;
  const { n } = await typed(db).selectFrom('devices').select((eb) => eb.cast<number>(eb.fn.countAll(), 'integer').as('n'))
    .where('organizationId', '=', organizationId).where('id', '=', anyUuid(unique)).executeTakeFirstOrThrow();
  if (n !== unique.length) throw notFound('Device');
}

async function replaceExclusions(db: SqlExecutor, organizationId: string, policyId: string, deviceIds: readonly string[]) {
  await typed(db).deleteFrom('patchPolicyExclusions').where('policyId', '=', policyId).execute();
  const unique = [...new Set(deviceIds)];
  if (unique.length > 0) {
    await typed(db).insertInto('patchPolicyExclusions').columns(['policyId', 'organizationId', 'deviceId'])
      .expression(typed(db).selectNoFrom([
        sql<string>`${policyId}`.as('policyId'), sql<string>`${organizationId}`.as('organizationId'), sql<string>`unnest(${unique}::uuid[])`.as('deviceId'),
      ]))
      .execute();
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
      ({ id } = await typed(tx).insertInto('patchPolicies')
        .values({ organizationId, scopeKind: checked.scopeKind, scopeValue: checked.scopeValue, ...policyValues(policy) })
        .returning('id').executeTakeFirstOrThrow());
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
      await typed(tx).updateTable('patchPolicies')
        .set({ scopeKind: scope.scopeKind, scopeValue: scope.scopeValue, ...policyValues(policy), updatedAt: sql<Date>`NOW()` })
        .where('id', '=', id).where('organizationId', '=', organizationId)
        .execute();
    } catch (error) {
      if (isUniqueViolation(error)) throw scopeTaken(scope.scopeKind);
      throw error;
    }
    if (changes.excludedDeviceIds) await replaceExclusions(tx, organizationId, id, changes.excludedDeviceIds);
    return getScopedPolicy(tx, organizationId, id);
  });
}

export async function deletePolicy(db: SqlExecutor, organizationId: string, id: string): Promise<void> {
  const result = await typed(db).deleteFrom('patchPolicies').where('id', '=', id).where('organizationId', '=', organizationId).executeTakeFirst();
  if (result.numDeletedRows === 0n) throw notFound('Patch policy');
}

/** Organizations where some policy, at any scope, deploys approved updates on its own. */
export async function autoApproveOrganizations(db: SqlExecutor): Promise<string[]> {
  const rows = await typed(db).selectFrom('patchPolicies').select('organizationId').distinct().where((eb) => eb.ref('autoApprove')).execute();
  return rows.map((row) => row.organizationId);
}
