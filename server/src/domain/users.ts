import type { Role } from '@ninjait/shared';
import type { RelationalStore, SqlExecutor } from '../stores/relational/index.ts';
import { AppError, isUniqueViolation, notFound } from '../errors.ts';
import { DUMMY_PASSWORD_HASH, hashPassword, verifyPassword } from '../auth/secrets.ts';

export interface User {
  id: string;
  email: string;
  name: string | null;
  role: Role;
  organizationId: string;
  createdAt: Date;
}

const COLUMNS = `id, email, name, role, organization_id AS "organizationId", created_at AS "createdAt"`;
/** After this many wrong passwords in a row the account waits LOCKOUT_MINUTES. */
export const MAX_FAILED_LOGINS = 10;
export const LOCKOUT_MINUTES = 15;

export async function createUser(
  db: SqlExecutor,
  input: { email: string; password: string; role: Role; organizationId: string; name?: string | undefined },
): Promise<User> {
  const passwordHash = await hashPassword(input.password);
  try {
    const { rows } = await db.query<User>(
      `INSERT INTO users (email, password_hash, role, organization_id, name) VALUES (lower($1), $2, $3, $4, $5) RETURNING ${COLUMNS}`,
      [input.email, passwordHash, input.role, input.organizationId, input.name ?? null],
    );
    return rows[0]!;
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError('CONFLICT', `A user with email ${input.email} already exists`);
    throw error;
  }
}

export async function listUsers(db: SqlExecutor, organizationId: string): Promise<User[]> {
  const { rows } = await db.query<User>(`SELECT ${COLUMNS} FROM users WHERE organization_id = $1 ORDER BY email`, [organizationId]);
  return rows;
}

export async function countUsers(db: SqlExecutor): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM users');
  return rows[0]?.n ?? 0;
}

/**
 * Checks a password. The same scrypt work is done whether or not the user exists, so
 * timing does not reveal accounts; repeated failures lock the account for a while.
 */
export async function authenticate(db: SqlExecutor, email: string, password: string): Promise<User> {
  const { rows } = await db.query<User & { passwordHash: string; lockedUntil: Date | null }>(
    `SELECT ${COLUMNS}, password_hash AS "passwordHash", locked_until AS "lockedUntil" FROM users WHERE email = lower($1)`,
    [email],
  );
  const row = rows[0];
  const valid = await verifyPassword(password, row?.passwordHash ?? DUMMY_PASSWORD_HASH);
  const invalid = new AppError('UNAUTHORIZED', 'Wrong email or password');
  if (!row) throw invalid;
  if (row.lockedUntil && row.lockedUntil > new Date()) {
    throw new AppError('TOO_MANY_REQUESTS', 'Too many failed logins: this account is locked for a few minutes');
  }
  if (!valid) {
    await db.query(
      `UPDATE users SET failed_logins = failed_logins + 1,
         locked_until = CASE WHEN failed_logins + 1 >= $2 THEN NOW() + make_interval(mins => $3) ELSE locked_until END
       WHERE id = $1`,
      [row.id, MAX_FAILED_LOGINS, LOCKOUT_MINUTES],
    );
    throw invalid;
  }
  await db.query(
    'UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1 AND (failed_logins > 0 OR locked_until IS NOT NULL)',
    [row.id],
  );
  const { passwordHash: _hash, lockedUntil: _locked, ...user } = row;
  return user;
}

export async function setPassword(db: SqlExecutor, userId: string, password: string): Promise<void> {
  await db.query('UPDATE users SET password_hash = $2, updated_at = NOW(), failed_logins = 0, locked_until = NULL WHERE id = $1',
    [userId, await hashPassword(password)]);
}

/** Changes a role within one organization; the last owner cannot be demoted. */
export async function setRole(db: RelationalStore, organizationId: string, userId: string, role: Role): Promise<User> {
  return db.transaction(async (tx) => {
    const owners = await tx.query<{ id: string }>(
      `SELECT id FROM users WHERE organization_id = $1 AND role = 'owner' FOR UPDATE`, [organizationId]);
    if (role !== 'owner' && owners.rows.length === 1 && owners.rows[0]!.id === userId) {
      throw new AppError('CONFLICT', 'An organization needs at least one owner');
    }
    const { rows } = await tx.query<User>(
      `UPDATE users SET role = $3, updated_at = NOW() WHERE id = $1 AND organization_id = $2 RETURNING ${COLUMNS}`,
      [userId, organizationId, role]);
    if (!rows[0]) throw notFound('User');
    return rows[0];
  });
}

export async function findUser(db: SqlExecutor, organizationId: string, userId: string): Promise<User> {
  const { rows } = await db.query<User>(`SELECT ${COLUMNS} FROM users WHERE id = $1 AND organization_id = $2`, [userId, organizationId]);
  if (!rows[0]) throw notFound('User');
  return rows[0];
}
