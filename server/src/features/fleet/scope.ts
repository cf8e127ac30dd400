import { z } from 'zod';
import { typed, type SqlExecutor } from '../../stores/relational/index.ts';
import { notFound } from '../../platform/errors.ts';
import { groupsById, matchingDeviceIds } from './groups.ts';

/** Where a rule (or any policy) applies: the whole organization, or one site, group or tag in it. */
export const SCOPE_KINDS = ['organization', 'site', 'group', 'tag'] as const;
export type ScopeKind = (typeof SCOPE_KINDS)[number];

/** A scope as the API takes it: the organization (no id), or one of its sites, groups or tags by id. */
export const scopeInputSchema = z.object({ kind: z.enum(SCOPE_KINDS), id: z.uuid().nullable().default(null) }).strict()
  .refine((scope) => (scope.kind === 'organization') === (scope.id === null), { message: 'an organization scope has no id; a site, group or tag scope names one' });

export interface Scoped {
  organizationId: string;
  scopeKind: string;
  scopeValue: string | null;
}

/** Answers whether a device of a batch is in a scope; built once per batch by resolveScopes. */
export type ScopeCheck = (scoped: Scoped, deviceId: string) => boolean;

const everywhere: ScopeCheck = () => true;

/**
 * Resolves the sites, tags and groups of some devices once, for every scope of a batch: one
 * statement for sites and tags, one per group that a scope names. Group membership is evaluated
 * now (a group filters on status too), so nothing here can be stale. A device outside the
 * scope's organization, or a scope naming something that no longer exists, is never in scope.
 */
export async function resolveScopes(db: SqlExecutor, scopes: readonly Scoped[], deviceIds: readonly string[]): Promise<ScopeCheck> {
  const narrow = scopes.filter((scope) => scope.scopeKind !== 'organization');
  if (narrow.length === 0 || deviceIds.length === 0) return everywhere;
  const ids = [...new Set(deviceIds)];
  const rows = await typed(db).selectFrom('devices as d')
    .select(['d.id', 'd.organizationId', 'd.siteId'])
    .select((eb) => eb.fn.coalesce(
      eb.selectFrom('deviceTags as dt').select((tb) => tb.fn.agg<string[]>('array_agg', ['dt.tagId']).as('tags')).whereRef('dt.deviceId', '=', 'd.id').$asScalar(),
      eb.val<string[]>([]),
    ).as('tagIds'))
    .where('d.id', 'in', ids).execute();
  const devices = new Map(rows.map((row) => [row.id, { organizationId: row.organizationId, siteId: row.siteId, tags: new Set(row.tagIds) }]));

  const members = new Map<string, Set<string>>();
  const groupScopes = new Map<string, Set<string>>();
  for (const scope of narrow) {
    if (scope.scopeKind === 'group' && scope.scopeValue) groupScopes.set(scope.organizationId, (groupScopes.get(scope.organizationId) ?? new Set()).add(scope.scopeValue));
  }
  for (const [organizationId, groupIds] of groupScopes) {
    const within = ids.filter((id) => devices.get(id)?.organizationId === organizationId);
    for (const group of await groupsById(db, organizationId, [...groupIds])) {
      members.set(group.id, new Set(await matchingDeviceIds(db, organizationId, group.filter, within)));
    }
  }

  return (scope, deviceId) => {
    const device = devices.get(deviceId);
    if (!device || device.organizationId !== scope.organizationId) return false;
    switch (scope.scopeKind) {
      case 'organization': return true;
      case 'site': return scope.scopeValue !== null && device.siteId === scope.scopeValue;
      case 'tag': return scope.scopeValue !== null && device.tags.has(scope.scopeValue);
      case 'group': return scope.scopeValue !== null && (members.get(scope.scopeValue)?.has(deviceId) ?? false);
      default: return false;
    }
  };
}

/**
 * Checks that a scope names something of the organization; returns the scope to store. A scope
 * naming another organization's site, group or tag is not found.
 */
export async function checkScope(db: SqlExecutor, organizationId: string, kind: ScopeKind, value: string | null): Promise<{ scopeKind: ScopeKind; scopeValue: string | null }> {
  if (kind === 'organization') return { scopeKind: kind, scopeValue: null };
  const table = kind === 'site' ? 'sites' : kind === 'tag' ? 'tags' : 'deviceGroups';
  const found = value === null ? undefined
    : await typed(db).selectFrom(table).select('id').where('organizationId', '=', organizationId).where('id', '=', value).executeTakeFirst();
  if (!found) throw notFound(kind === 'site' ? 'Site' : kind === 'tag' ? 'Tag' : 'Group');
  return { scopeKind: kind, scopeValue: value };
}
