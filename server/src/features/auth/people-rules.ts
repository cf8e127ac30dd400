import { roleAtLeast, type Role } from '@ninjait/shared';
import { AppError } from '../../platform/errors.ts';
import type { ChangeGuard } from './users.ts';

/**
 * Who may change whom within an organization, in one place: nobody hands out or takes away more
 * power than they hold, nobody removes or resets themselves through an admin's door, and an
 * organization always keeps an owner. Each rule refuses with words the console shows as they are.
 */
export interface Actor {
  userId: string;
  role: Role;
}

export const LAST_OWNER = 'An organization needs at least one owner: make someone else an owner first';

/** Creating someone with `role`. */
export function assertMayGrant(actor: Actor, role: Role): void {
  if (!roleAtLeast(actor.role, role)) throw new AppError('FORBIDDEN', `Only an owner can add an ${role}: you can add people up to your own role`);
}

function assertOutranksOrEquals(actor: Actor, target: { role: Role }, doing: string): void {
  if (!roleAtLeast(actor.role, target.role)) throw new AppError('FORBIDDEN', `You cannot ${doing} someone whose role is above yours`);
}

/** Changing someone's role to `role`. */
export const roleChangeGuard = (actor: Actor, role: Role): ChangeGuard => (target, owners) => {
  assertOutranksOrEquals(actor, target, "change the role of");
  if (!roleAtLeast(actor.role, role)) throw new AppError('FORBIDDEN', 'You cannot give anyone a role above your own');
  if (target.role === 'owner' && role !== 'owner' && owners <= 1) throw new AppError('CONFLICT', LAST_OWNER);
};

/** Removing someone from the organization. */
export const removalGuard = (actor: Actor): ChangeGuard => (target, owners) => {
  if (target.id === actor.userId) throw new AppError('FORBIDDEN', 'You cannot remove yourself: another admin or owner can');
  assertOutranksOrEquals(actor, target, 'remove');
  if (target.role === 'owner' && owners <= 1) throw new AppError('CONFLICT', LAST_OWNER);
};

/** Setting someone else's password. One's own goes through the account page, which asks for the current one. */
export function assertMayResetPassword(actor: Actor, target: { id: string; role: Role }): void {
  if (target.id === actor.userId) throw new AppError('FORBIDDEN', 'Change your own password on the My account page: it asks for your current one');
  assertOutranksOrEquals(actor, target, 'reset the password of');
}
