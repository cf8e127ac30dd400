import { z } from 'zod';

/** People's roles, weakest first; a role can do everything the ones before it can. */
export const ROLES = ['viewer', 'technician', 'admin', 'owner'] as const;
export const roleSchema = z.enum(ROLES);
export type Role = z.infer<typeof roleSchema>;

export function roleAtLeast(role: Role, required: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(required);
}
