import type { SqlExecutor } from '../../stores/relational/index.ts';
import { AppError } from '../../platform/errors.ts';
import { findSite } from './sites.ts';
import { findGroup } from './groups.ts';
import { resolveTags } from './tags.ts';
import type { ScopeKind } from './scope.ts';

/** A scope as the CLI writes it, `site:NAME`, `group:NAME` or `tag:NAME` (or `organization`), resolved to ids. */
export async function scopeByName(db: SqlExecutor, organizationId: string, text: string): Promise<{ kind: ScopeKind; id: string | null }> {
  if (text === 'organization' || text === 'org') return { kind: 'organization', id: null };
  const match = /^(site|group|tag):(.+)$/.exec(text);
  if (!match) throw new AppError('BAD_REQUEST', `A scope is site:NAME, group:NAME, tag:NAME or organization, not "${text.slice(0, 100)}"`);
  const [, kind, name] = match as unknown as [string, 'site' | 'group' | 'tag', string];
  if (kind === 'site') return { kind, id: (await findSite(db, organizationId, name)).id };
  if (kind === 'group') return { kind, id: (await findGroup(db, organizationId, name)).id };
  return { kind, id: (await resolveTags(db, organizationId, [name]))[0]!.id };
}
