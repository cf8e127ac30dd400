import { randomBytes } from 'node:crypto';
import type { Role } from '@ninjait/shared';
import type { RelationalStore, SqlExecutor } from '../../stores/relational/index.ts';
import { AppError, isUniqueViolation, notFound } from '../../platform/errors.ts';
import { DUMMY_PASSWORD_HASH, hashPassword, verifyPassword } from '../../platform/secrets.ts';

export interface User {
  id: string;
  email: string;
  name: string | null;
  role: Role;
  organizationId: string;
  createdAt: Date;
  /** When they were removed from the organization; null while they belong to it. */
  removedAt: Date | null;
}

const COLUMNS = `id, email, name, role, organization_id AS "organizationId", created_at AS "createdAt", removed_at AS "removedAt"`;
/** Removed people keep their row (history names them) but exist for nothing else: every lookup below skips them. */
const ACTIVE = 'removed_at IS NULL';

export interface NewUser {
  email: string;
  role: Role;
  organizationId: string;
  name?: string | undefined;
}

/** Inserts a person whose password is already hashed: lets a caller hash before opening a transaction. */
export async function insertUser(db: SqlExecutor, input: NewUser & { passwordHash: string }): Promise<User> {
  try {
    const { rows } = await db.query<User>(
      // The home organization is also a membership (features/providers): both rows or neither.
      `WITH u AS (INSERT INTO users (email, password_hash, role, organization_id, name) VALUES (lower($1), $2, $3, $4, $5) RETURNING *),
         m AS (INSERT INTO memberships (user_id, organization_id, role) SELECT id, organization_id, role FROM u)
       SELECT ${COLUMNS} FROM u`,
      [input.email, input.passwordHash, input.role, input.organizationId, input.name ?? null],
    );
    return rows[0]!;
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
  const { rows } = await db.query<User>(
    `SELECT ${COLUMNS} FROM users WHERE organization_id = $1${options.includeRemoved ? '' : ` AND ${ACTIVE}`} ORDER BY email, created_at`, [organizationId]);
  return rows;
}

/** How the console names a colleague: everyone in the organization may see who did what. */
export interface PersonName {
  id: string;
  displayName: string;
  removed: boolean;
}

/** Every person of the organization, removed ones too (history still names them), name or email only. */
export async function listPersonNames(db: SqlExecutor, organizationId: string): Promise<PersonName[]> {
  const { rows } = await db.query<PersonName>(
    `SELECT id, COALESCE(NULLIF(name, ''), email) AS "displayName", removed_at IS NOT NULL AS removed
     FROM users WHERE organization_id = $1 ORDER BY 2, id`, [organizationId]);
  return rows;
}

export async function countUsers(db: SqlExecutor): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM users');
  return rows[0]?.n ?? 0;
}

/** Who an email belongs to, for routing a failed login's audit entry to that organization. */
export interface LoginAccount {
  id: string;
  organizationId: string;
}

/** The one answer to a failed check, whichever part was wrong. */
export const WRONG_CREDENTIALS = 'Wrong email or password';

export type LoginCheck =
  | { ok: true; user: User }
  | { ok: false; reason: 'unknown_account' | 'wrong_password'; account: LoginAccount | null };

/**
 * Checks an email and password, writing nothing. The same scrypt work is done whether or not the
 * account exists (against DUMMY_PASSWORD_HASH), so timing does not reveal accounts; the reason
 * is for the audit log, never for the caller. Throttling lives in features/auth/login-throttle.ts (the
 * cache), not in this table: no login can lock an account. People's calls reach it only through
 * features/auth/login.ts checkLogin, which throttles and queues it.
 */
export async function verifyLogin(db: SqlExecutor, email: string, password: string): Promise<LoginCheck> {
  const { rows } = await db.query<User & { passwordHash: string }>(
    `SELECT ${COLUMNS}, password_hash AS "passwordHash" FROM users WHERE email = lower($1) AND ${ACTIVE}`,
    [email],
  );
  const row = rows[0];
  const valid = await verifyPassword(password, row?.passwordHash ?? DUMMY_PASSWORD_HASH);
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
  const { rows } = await db.query<LoginAccount>(
    `SELECT id, organization_id AS "organizationId" FROM users WHERE email = lower($1) AND ${ACTIVE}`, [email]);
  return rows[0] ?? null;
}

export async function setPassword(db: SqlExecutor, userId: string, password: string): Promise<void> {
  await db.query(`UPDATE users SET password_hash = $2, updated_at = NOW() WHERE id = $1 AND ${ACTIVE}`,
    [userId, await hashPassword(password)]);
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
    const { rows: owners } = await tx.query<{ id: string }>(
      `SELECT id FROM users WHERE organization_id = $1 AND role = 'owner' AND ${ACTIVE} ORDER BY id FOR UPDATE`, [organizationId]);
    const target = await findUser(tx, organizationId, userId, { lock: true });
    guard(target, owners.length);
    const changed = await change(tx);
    if (!changed) throw notFound('User');
    return changed;
  });
}

/** Gives someone another role within one organization, once `guard` agrees. */
export async function setRole(db: RelationalStore, organizationId: string, userId: string, role: Role, guard: ChangeGuard): Promise<User> {
  return changePerson(db, organizationId, userId, guard, async (tx) => (await tx.query<User>(
    `WITH u AS (UPDATE users SET role = $3, updated_at = NOW() WHERE id = $1 AND organization_id = $2 AND ${ACTIVE} RETURNING *),
       m AS (UPDATE memberships SET role = $3 WHERE user_id = $1 AND organization_id = $2)
     SELECT ${COLUMNS} FROM u`,
    [userId, organizationId, role])).rows[0]);
}

/** Removes someone from the organization, once `guard` agrees: they can no longer log in; their history stays. */
export async function removeUser(db: RelationalStore, organizationId: string, userId: string, guard: ChangeGuard): Promise<User> {
  return changePerson(db, organizationId, userId, guard, async (tx) => (await tx.query<User>(
    // Removed from the home organization means gone: every membership ends with it.
    `WITH u AS (UPDATE users SET removed_at = NOW(), updated_at = NOW() WHERE id = $1 AND organization_id = $2 AND ${ACTIVE} RETURNING *),
       m AS (DELETE FROM memberships WHERE user_id IN (SELECT id FROM u))
     SELECT ${COLUMNS} FROM u`,
    [userId, organizationId])).rows[0]);
}

/** Someone in this organization (not removed), or NOT_FOUND: another organization's id finds nothing. */
export async function findUser(db: SqlExecutor, organizationId: string, userId: string, options: { lock?: boolean } = {}): Promise<User> {
  const { rows } = await db.query<User>(
    `SELECT ${COLUMNS} FROM users WHERE id = $1 AND organization_id = $2 AND ${ACTIVE}${options.lock ? ' FOR UPDATE' : ''}`, [userId, organizationId]);
  if (!rows[0]) throw notFound('User');
  return rows[0];
}
