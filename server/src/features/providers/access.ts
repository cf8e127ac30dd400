import { ROLES, roleSchema, type Role } from '@ninjait/shared';
import type { SqlExecutor } from '../../stores/relational/index.ts';
import { secondFactorState } from '../auth/index.ts';
import { explicitMemberships, providerClients } from './repository.ts';

/**
 * The role provider staff hold in the provider's clients: their provider role, but never owner.
 * A client's owners stay the client's own people; the provider administers, it does not own.
 */
export const PROVIDER_ROLE_CAP: Role = 'admin';

/** An organization a person may enter, with their role there and how they got it. */
export interface Access {
  organizationId: string;
  name: string;
  role: Role;
  /** `member`: a membership of theirs; `provider`: they are staff of the provider that serves it. */
  via: 'member' | 'provider';
  /** The provider's name for a client organization, null otherwise. */
  providerName: string | null;
  /** The organization serves clients (its admins create them; its staff enter them). */
  provider: boolean;
  /** The organization requires two-factor sign-in: only people with a second factor may enter. */
  requireTwoFactor: boolean;
}

const rank = (role: Role) => ROLES.indexOf(role);
const weaker = (a: Role, b: Role): Role => (rank(a) <= rank(b) ? a : b);

/**
 * Every organization `userId` may enter: their memberships, plus every client of a provider they
 * are a member of (all clients, no grant per client: an MSP's technicians serve all its clients;
 * an organization that wants fewer hands keeps its own people instead). Where both apply, the
 * stronger role wins. A role the code does not know grants nothing. Removed people have none.
 */
export async function accessibleOrganizations(db: SqlExecutor, userId: string): Promise<Access[]> {
  const members = await explicitMemberships(db, userId);
  const byOrg = new Map<string, Access>();
  for (const row of members) {
    const role = roleSchema.safeParse(row.role);
    if (role.success) byOrg.set(row.organizationId, { organizationId: row.organizationId, name: row.name, role: role.data, via: 'member', providerName: row.providerName, requireTwoFactor: row.requireTwoFactor, provider: Boolean(row.provider) });
  }
  const providers = [...byOrg.values()].filter((access) => access.provider);
  const clients = await providerClients(db, providers.map((p) => p.organizationId));
  for (const client of clients) {
    const staff = byOrg.get(client.providerId)!;
    const role = weaker(staff.role, PROVIDER_ROLE_CAP);
    const existing = byOrg.get(client.id);
    if (existing && rank(existing.role) >= rank(role)) continue;
    byOrg.set(client.id, { organizationId: client.id, name: client.name, role, via: 'provider', providerName: staff.name, requireTwoFactor: client.requireTwoFactor, provider: false });
  }
  return [...byOrg.values()].sort((a, b) => a.name.localeCompare(b.name) || a.organizationId.localeCompare(b.organizationId));
}


/** An organization the person may enter, and whether its two-factor rule keeps them out for now. */
export interface Enterable extends Access {
  /** The organization requires a second factor and this person has none yet. */
  needsSecondFactor: boolean;
}

/**
 * `accessibleOrganizations` with each organization's two-factor rule applied to this person: the
 * organization switcher lists them, switching and the fleet view let in only those not blocked.
 */
export async function enterableOrganizations(db: SqlExecutor, userId: string): Promise<Enterable[]> {
  const [access, factor] = await Promise.all([accessibleOrganizations(db, userId), secondFactorState(db, userId)]);
  return access.map((entry) => ({ ...entry, needsSecondFactor: entry.requireTwoFactor && factor.totpSecret === null }));
}
