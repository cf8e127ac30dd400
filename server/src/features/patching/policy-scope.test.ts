import { describe, expect, it } from 'vitest';
import type { Scoped } from '../fleet/index.ts';
import { DEFAULT_POLICY, patchPolicySchema } from './policy.ts';
import type { ScopedPolicy } from './policy-repository.ts';
import { pickPolicy } from './policy-scope.ts';

let n = 0;
const policy = (scopeKind: ScopedPolicy['scopeKind'], scopeValue: string | null, extra: Partial<ScopedPolicy> = {}): ScopedPolicy => ({
  ...patchPolicySchema.parse({ name: `${scopeKind}:${scopeValue ?? '-'}` }),
  id: `00000000-0000-0000-0000-00000000000${++n}`, organizationId: 'org', scopeKind, scopeValue, excludedDeviceIds: [],
  createdAt: new Date(Date.UTC(2026, 0, n)), updatedAt: new Date(), ...extra,
});

/** A device in site s1, group g1, with tags t1 and t2 (what resolveScopes answers from the database). */
const membership: Record<string, { site: string; groups: string[]; tags: string[] }> = { d1: { site: 's1', groups: ['g1'], tags: ['t1', 't2'] } };
const inScope = (scope: Scoped, deviceId: string) => {
  const m = membership[deviceId];
  if (!m) return false;
  if (scope.scopeKind === 'organization') return true;
  if (scope.scopeKind === 'site') return scope.scopeValue === m.site;
  if (scope.scopeKind === 'group') return m.groups.includes(scope.scopeValue ?? '');
  return m.tags.includes(scope.scopeValue ?? '');
};

describe('which patch policy a device is under', () => {
  const org = policy('organization', null);
  const site = policy('site', 's1');
  const otherSite = policy('site', 's2');
  const group = policy('group', 'g1');
  const tagOld = policy('tag', 't2');
  const tagNew = policy('tag', 't1');

  it('takes the most specific scope that reaches it: tag, then group, then site, then organization', () => {
    expect(pickPolicy([org, site, group, tagNew], 'd1', inScope).source?.id).toBe(tagNew.id);
    expect(pickPolicy([org, site, group], 'd1', inScope).source?.id).toBe(group.id);
    expect(pickPolicy([group, site, org].reverse(), 'd1', inScope).source?.id).toBe(group.id);
    expect(pickPolicy([org, site, otherSite], 'd1', inScope).source?.id).toBe(site.id);
    expect(pickPolicy([org, otherSite], 'd1', inScope).source?.id).toBe(org.id);
  });

  it('between two policies of one kind, the older one wins whatever the order they come in', () => {
    expect(pickPolicy([tagNew, tagOld], 'd1', inScope).source?.id).toBe(tagOld.id);
    expect(pickPolicy([tagOld, tagNew], 'd1', inScope).source?.id).toBe(tagOld.id);
  });

  it('an excluded device falls through to the next policy down, and to the defaults past the last', () => {
    const excludingTag = { ...tagOld, excludedDeviceIds: ['d1'] };
    expect(pickPolicy([org, site, excludingTag], 'd1', inScope).source?.id).toBe(site.id);
    const excludingOrg = { ...org, excludedDeviceIds: ['d1'] };
    expect(pickPolicy([excludingOrg], 'd1', inScope)).toEqual({ policy: DEFAULT_POLICY, source: null });
  });

  it('returns the rules of the chosen policy without its bookkeeping', () => {
    const strict = policy('site', 's1', { reboot: 'never', windowCron: '0 2 * * 6', autoApprove: true });
    const { policy: rules, source } = pickPolicy([org, strict], 'd1', inScope);
    expect(rules).toEqual(patchPolicySchema.parse({ name: strict.name, reboot: 'never', windowCron: '0 2 * * 6', autoApprove: true }));
    expect(source).toEqual({ id: strict.id, name: strict.name, scopeKind: 'site', scopeValue: 's1' });
    // A device no policy reaches (another organization's, unknown) gets the defaults.
    expect(pickPolicy([org, strict], 'elsewhere', inScope).source).toBeNull();
  });
});
