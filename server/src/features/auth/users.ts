import { randomBytes } from 'node:crypto';
import type { Role } from '@ninjait/shared';
import type { RelationalStore, SqlExecutor } from '../../stores/relational/index.ts';
import { AppError, isUniqueViolation, notFound } from '../../platform/errors.ts';
import { dummyPasswordHash, hashPassword, verifyPassword } from '../../platform/secrets.ts';
import {
  insertUserRow, lockOwners, markRemoved, selectLoginAccount, selectLoginRow, selectPersonNames, selectUser, selectUserCount,
  selectUsers, updatePasswordHash, updateRole, type LoginAccount, type PersonName, type User,
} from './users-repository.ts';

export type { LoginAccount, PersonName, User } from './users-repository.ts';

export interface NewUser {
  email: string;
  role: Role;
  organizationId: string;
  name?: string | undefined;
}

/** Inserts a person whose password is already hashed: lets a caller hash before opening a transaction. */
export async function insertUser(db: SqlExecutor, input: NewUser & { passwordHash: string }): Promise<User> {
  try {
    // The home organization is also a membership (features/providers): both rows or neither.
    return await insertUserRow(db, { ...input, name: input.name ?? null });
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError('CONFLICT', `Someone with the email ${input.email} already has an account`);
    throw error;
  }
}

export async function createUser(db: SqlExecutor, input: NewUser & { password: string }): Promise<User> {
  return insertUser(db, { ...input, passwordHash: await hashPassword(input.password) });
}

/** A first password for someone an admin adds or resets: 96 random bits, shown once, typed once. */
export function generatePassword(): string {
  return randomBytes(12).toString('base64url');
}

/** The organization's people; with `includeRemoved`, those removed too (so history can still name them). */
export async function listUsers(db: SqlExecutor, organizationId: string, options: { includeRemoved?: boolean } = {}): Promise<User[]> {
  return selectUsers(db, organizationId, options.includeRemoved ?? false);
}

/** Every person of the organization, removed ones too (history still names them), name or email only. */
export async function listPersonNames(db: SqlExecutor, organizationId: string): Promise<PersonName[]> {
  return selectPersonNames(db, organizationId);
}

export async function countUsers(db: SqlExecutor): Promise<number> {
  return selectUserCount(db);
}

/** The one answer to a failed check, whichever part was wrong. */
export const WRONG_CREDENTIALS = 'Wrong email or password';

export type LoginCheck =
  | { ok: true; user: User }
  | { ok: false; reason: 'unknown_account' | 'wrong_password'; account: LoginAccount | null };

/**
 * Checks an email and password, writing nothing. The same scrypt work is done whether or not the
 * account exists (against dummyPasswordHash()), so timing does not reveal accounts; the reason
 * is for the audit log, never for the caller. Throttling lives in features/auth/login-throttle.ts (the
 * cache), not in this table: no login can lock an account. People's calls reach it only through
 * features/auth/login.ts checkLogin, which throttles and queues it.
 */
export async function verifyLogin(db: SqlExecutor, email: string, password: string): Promise<LoginCheck> {
  const row = await selectLoginRow(db, email);
  const valid = await verifyPassword(password, row?.passwordHash ?? dummyPasswordHash());
  if (!row) return { ok: false, reason: 'unknown_account', account: null };
  const { passwordHash: _hash, ...user } = row;
  if (!valid) return { ok: false, reason: 'wrong_password', account: { id: user.id, organizationId: user.organizationId } };
  return { ok: true, user };
}

/**
 * `verifyLogin` for a caller who only needs yes or no: the user, or UNAUTHORIZED alike for both
 * failures. Unthrottled: procedures check passwords through features/auth/login.ts checkLogin instead.
 */
export async function authenticate(db: SqlExecutor, email: string, password: string): Promise<User> {
  const check = await verifyLogin(db, email, password);
  if (!check.ok) throw new AppError('UNAUTHORIZED', WRONG_CREDENTIALS);
  return check.user;
}

export async function findLoginAccount(db: SqlExecutor, email: string): Promise<LoginAccount | null> {
  return (await selectLoginAccount(db, email)) ?? null;
}

export async function setPassword(db: SqlExecutor, userId: string, password: string): Promise<void> {
  await updatePasswordHash(db, userId, await hashPassword(password));
}

/**
 * Checks a change to `target` before it is made, inside the transaction that holds the target's
 * row: throws (FORBIDDEN, CONFLICT) to refuse it. `owners` counts the organization's owners.
 */
export type ChangeGuard = (target: User, owners: number) => void;

/**
 * Locks the organization's owners and the target, runs `guard`, then `change`: two admins demoting
 * or removing the last two owners at once cannot both succeed. Another organization's id is NOT_FOUND.
 */
async function changePerson(db: RelationalStore, organizationId: string, userId: string, guard: ChangeGuard,
  change: (tx: SqlExecutor) => Promise<User | undefined>): Promise<User> {
  return db.transaction(async (tx) => {
    const owners = await lockOwners(tx, organizationId);
    const target = await findUser(tx, organizationId, userId, { lock: true });
    guard(target, owners.length);
    const changed = await change(tx);
    if (!changed) throw notFound('User');
    return changed;
  });
}

/** Gives someone another role within one organization, once `guard` agrees. */
export async function setRole(db: RelationalStore, organizationId: string, userId: string, role: Role, guard: ChangeGuard): Promise<User> {
  return changePerson(db, organizationId, userId, guard, (tx) => updateRole(tx, organizationId, userId, role));
}

/** Removes someone from the organization, once `guard` agrees: they can no longer log in; their history stays. */
export async function removeUser(db: RelationalStore, organizationId: string, userId: string, guard: ChangeGuard): Promise<User> {
  // Removed from the home organization means gone: every membership ends with it.
  return changePerson(db, organizationId, userId, guard, (tx) => markRemoved(tx, organizationId, userId));
}

/** Someone in this organization (not removed), or NOT_FOUND: another organization's id finds nothing. */
export async function findUser(db: SqlExecutor, organizationId: string, userId: string, options: { lock?: boolean } = {}): Promise<User> {
  const user = await selectUser(db, organizationId, userId, options.lock ?? false);
  if (!user) throw notFound('User');
  return user;
}
