import type { SqlExecutor } from '../../stores/relational/index.ts';
import { DEFAULT_POLICY, type PatchPolicy } from './policy.ts';
import { listPolicies, type ScopedPolicy } from './policy-repository.ts';

/**
 * How specific each scope is: a device takes the most specific policy that reaches it. A tag is
 * set on a device by a person on purpose, a group is a filter, a site is where the device is and
 * the organization is everything; an exclusion takes a device out of one policy (it falls through
 * to the next one). Two policies of one kind (two tags of the device): the older one wins.
 */
export const SCOPE_PRECEDENCE: Readonly<Record<string, number>> = { tag: 3, group: 2, site: 1, organization: 0 };

/** Whether a device is in a scope; built once per batch by the fleet's resolveScopes. */
export type ScopeCheck = (scoped: { organizationId: string; scopeKind: string; scopeValue: string | null }, deviceId: string) => boolean;
/**
 * The fleet's scope resolution (fleet/scope.ts resolveScopes, the one alert rules use), handed in
 * by the composition root: the service must not import the fleet feature, whose index reaches routers.
 */
export type ResolveScopes = (db: SqlExecutor, scopes: ReadonlyArray<{ organizationId: string; scopeKind: string; scopeValue: string | null }>, deviceIds: readonly string[]) => Promise<ScopeCheck>;

/** The policy a device is under, and why; `policy` null means the built-in defaults apply. */
export interface EffectivePolicy {
  policy: PatchPolicy;
  /** The stored policy chosen, or null (no policy reaches the device: the defaults). */
  source: Pick<ScopedPolicy, 'id' | 'name' | 'scopeKind' | 'scopeValue'> | null;
}

/** Picks the policy for one device among the organization's; pure, so the precedence is tested on its own. */
export function pickPolicy(policies: readonly ScopedPolicy[], deviceId: string, inScope: ScopeCheck): EffectivePolicy {
  let best: ScopedPolicy | null = null;
  for (const candidate of policies) {
    if (candidate.excludedDeviceIds.includes(deviceId) || !inScope(candidate, deviceId)) continue;
    const rank = SCOPE_PRECEDENCE[candidate.scopeKind] ?? -1;
    const bestRank = best ? SCOPE_PRECEDENCE[best.scopeKind] ?? -1 : -2;
    const older = best !== null && rank === bestRank
      && (candidate.createdAt.getTime() < best.createdAt.getTime() || (candidate.createdAt.getTime() === best.createdAt.getTime() && candidate.id < best.id));
    if (rank > bestRank || older) best = candidate;
  }
  if (!best) return { policy: DEFAULT_POLICY, source: null };
  const { id, scopeKind, scopeValue, organizationId: _o, excludedDeviceIds: _e, createdAt: _c, updatedAt: _u, ...policy } = best;
  return { policy, source: { id, name: policy.name, scopeKind, scopeValue } };
}

/**
 * The policy of each of `deviceIds` (devices of the organization), resolving sites, tags and groups
 * once for the batch.
 */
export async function effectivePolicies(db: SqlExecutor, resolveScopes: ResolveScopes, organizationId: string, deviceIds: readonly string[]): Promise<Map<string, EffectivePolicy>> {
  const policies = (await listPolicies(db, organizationId)).map((policy) => ({ ...policy, createdAt: new Date(policy.createdAt) }));
  const inScope = await resolveScopes(db, policies, deviceIds);
  return new Map(deviceIds.map((deviceId) => [deviceId, pickPolicy(policies, deviceId, inScope)]));
}
