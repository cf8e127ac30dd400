import { ROLES, type ApiKeyScope, type Role } from '@ninjait/shared';

/**
 * The highest role a key acts with when a scope lets it call a procedure. `admin` stops below
 * owner: creating organizations and other owner-only acts stay with people at the console.
 */
export const SCOPE_ROLE_CAP: Record<ApiKeyScope, Role> = {
  'devices:read': 'viewer',
  'analytics:read': 'viewer',
  'tickets:manage': 'technician',
  'commands:run': 'technician',
  admin: 'admin',
};

/**
 * Procedures a key never calls, whatever its scopes: managing keys (a leaked key must not mint
 * its successors) and the acts that belong to a person's own login.
 */
const SESSION_ONLY = new Set(['auth.logout', 'auth.sessions', 'auth.revokeSession', 'users.changePassword', 'auth.organizations', 'auth.switchOrganization']);
// A key stays in the organization it was made in: what spans several (providers, the switcher) is a person's.
const SESSION_ONLY_ROUTERS = new Set(['apiKeys', 'twoFactor', 'providers']);
/** Who the key acts for: any key may ask. */
const ANY_SCOPE = new Set(['auth.me', 'auth.session']);

export type ScopeRequirement = { kind: 'never' } | { kind: 'any' } | { kind: 'scope'; scope: ApiKeyScope };

/**
 * The script library: reading it (scripts, versions, runs and their results, schedules) is a
 * read like the devices' command history; running a script or managing its schedules is running
 * commands; writing what runs on every device stays with `admin`.
 */
function scriptsScope(path: string, reads: boolean): ScopeRequirement {
  if (reads) return { kind: 'scope', scope: 'devices:read' };
  if (path === 'scripts.run' || path.startsWith('scripts.schedules.')) return { kind: 'scope', scope: 'commands:run' };
  return { kind: 'scope', scope: 'admin' };
}

/** Which scope a procedure needs from an API key; mutations outside the integration areas need `admin`. */
export function requiredScope(path: string, type: 'query' | 'mutation' | 'subscription'): ScopeRequirement {
  const router = path.split('.', 1)[0] ?? '';
  if (SESSION_ONLY.has(path) || SESSION_ONLY_ROUTERS.has(router)) return { kind: 'never' };
  if (ANY_SCOPE.has(path)) return { kind: 'any' };
  const reads = type !== 'mutation';
  if ((router === 'devices' || router === 'metrics' || router === 'live') && reads) return { kind: 'scope', scope: 'devices:read' };
  if (router === 'commands' || router === 'jobs') return { kind: 'scope', scope: 'commands:run' };
  if (router === 'tickets') return { kind: 'scope', scope: 'tickets:manage' };
  if (router === 'analytics' && reads) return { kind: 'scope', scope: 'analytics:read' };
  if (router === 'scripts') return scriptsScope(path, reads);
  return { kind: 'scope', scope: 'admin' };
}

const weaker = (a: Role, b: Role): Role => (ROLES.indexOf(a) <= ROLES.indexOf(b) ? a : b);

/**
 * The role a key acts with for one call, or null when its scopes do not cover the procedure.
 * Never above the creator's current role: a key is the creator's, narrowed.
 */
export function keyRoleFor(scopes: readonly ApiKeyScope[], creatorRole: Role, path: string, type: 'query' | 'mutation' | 'subscription'): Role | null {
  const need = requiredScope(path, type);
  if (need.kind === 'never') return null;
  if (scopes.includes('admin')) return weaker(creatorRole, SCOPE_ROLE_CAP.admin);
  if (need.kind === 'any') return weaker(creatorRole, 'viewer');
  return scopes.includes(need.scope) ? weaker(creatorRole, SCOPE_ROLE_CAP[need.scope]) : null;
}
