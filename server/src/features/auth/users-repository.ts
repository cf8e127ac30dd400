import { sql, type ExpressionBuilder } from 'kysely';
import type { Role } from '@ninjait/shared';
import { typed, type SqlExecutor } from '../../stores/relational/index.ts';
import type { Database } from '../../stores/relational/schema.ts';

/**
 * Every query of people (`users`, their home membership) and of emailed password resets: typed
 * with Kysely, so a renamed column is a compile error. Each function is one statement, as before;
 * the services around them (users.ts, password-reset.ts) hash, check and decide.
 */

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

/** How the console names a colleague: everyone in the organization may see who did what. */
export interface PersonName {
  id: string;
  displayName: string;
  removed: boolean;
}

/** Who an email belongs to, for routing a failed login's audit entry to that organization. */
export interface LoginAccount {
  id: string;
  organizationId: string;
}

const COLUMNS = ['id', 'email', 'name', 'role', 'organizationId', 'createdAt', 'removedAt'] as const;

/** What the schema leaves wider than the rows are: a role the code writes, and columns set on insert. */
type UserNarrowing = { role: Role; organizationId: string; createdAt: Date };

/** Removed people keep their row (history names them) but exist for nothing else: every lookup below skips them. */
const active = (eb: ExpressionBuilder<Database, 'users'>) => eb('removedAt', 'is', null);

/** An email as stored: lower case, by the database, as every lookup compares it. */
const lowerEmail = (email: string) => sql<string>`lower(${email})`;

/** A person and their home membership (features/providers): both rows or neither, in one statement. */
export async function insertUserRow(db: SqlExecutor, input: { email: string; passwordHash: string; role: Role; organizationId: string; name: string | null }): Promise<User> {
  return typed(db)
    .with('u', (q) => q.insertInto('users')
      .values({ email: lowerEmail(input.email), passwordHash: input.passwordHash, role: input.role, organizationId: input.organizationId, name: input.name })
      .returningAll())
    .with('m', (q) => q.insertInto('memberships').columns(['userId', 'organizationId', 'role'])
      .expression((eb) => eb.selectFrom('u').select(['id', 'organizationId', 'role'])))
    .selectFrom('u').select(COLUMNS).$narrowType<UserNarrowing>().executeTakeFirstOrThrow();
}

/** The organization's people by email; with `includeRemoved`, those removed too. */
export async function selectUsers(db: SqlExecutor, organizationId: string, includeRemoved: boolean): Promise<User[]> {
  return typed(db).selectFrom('users').select(COLUMNS).where('organizationId', '=', organizationId)
    .$if(!includeRemoved, (query) => query.where(active))
    .orderBy('email').orderBy('createdAt').$narrowType<UserNarrowing>().execute();
}

/** Every person of the organization, removed ones too, by name or email only. */
export async function selectPersonNames(db: SqlExecutor, organizationId: string): Promise<PersonName[]> {
  return typed(db).selectFrom('users')
    .select((eb) => [
      'id',
      eb.fn.coalesce(eb.fn<string | null>('nullif', ['name', sql.lit('')]), 'email').as('displayName'),
      eb('removedAt', 'is not', null).as('removed'),
    ])
    .where('organizationId', '=', organizationId).orderBy('displayName').orderBy('id')
    .$narrowType<{ removed: boolean }>().execute();
}

export async function selectUserCount(db: SqlExecutor): Promise<number> {
  const row = await typed(db).selectFrom('users').select(sql<number>`count(*)::int`.as('n')).executeTakeFirst();
  return row?.n ?? 0;
}

/** The active person with this email and their password hash (the login check). */
export async function selectLoginRow(db: SqlExecutor, email: string) {
  return typed(db).selectFrom('users').select([...COLUMNS, 'passwordHash'])
    .where('email', '=', lowerEmail(email)).where(active).$narrowType<UserNarrowing>().executeTakeFirst();
}

export async function selectLoginAccount(db: SqlExecutor, email: string): Promise<LoginAccount | undefined> {
  return typed(db).selectFrom('users').select(['id', 'organizationId'])
    .where('email', '=', lowerEmail(email)).where(active).$narrowType<{ organizationId: string }>().executeTakeFirst();
}

/** Writes an active person's password hash. */
export async function updatePasswordHash(db: SqlExecutor, userId: string, passwordHash: string): Promise<void> {
  await typed(db).updateTable('users').set({ passwordHash, updatedAt: sql<Date>`NOW()` }).where('id', '=', userId).where(active).execute();
}

/** The ids of the organization's active owners, locked to the commit in id order (so two changes queue, never deadlock). */
export async function lockOwners(tx: SqlExecutor, organizationId: string): Promise<string[]> {
  const rows = await typed(tx).selectFrom('users').select('id')
    .where('organizationId', '=', organizationId).where('role', '=', sql.lit('owner')).where(active)
    .orderBy('id').forUpdate().execute();
  return rows.map((row) => row.id);
}

/** An active person of the organization, locked to the commit with `lock`. */
export async function selectUser(db: SqlExecutor, organizationId: string, userId: string, lock: boolean): Promise<User | undefined> {
  return typed(db).selectFrom('users').select(COLUMNS)
    .where('id', '=', userId).where('organizationId', '=', organizationId).where(active)
    .$if(lock, (query) => query.forUpdate()).$narrowType<UserNarrowing>().executeTakeFirst();
}

/** Another role for an active person, in their home organization and its membership row, in one statement. */
export async function updateRole(tx: SqlExecutor, organizationId: string, userId: string, role: Role): Promise<User | undefined> {
  return typed(tx)
    .with('u', (q) => q.updateTable('users').set({ role, updatedAt: sql<Date>`NOW()` })
      .where('id', '=', userId).where('organizationId', '=', organizationId).where(active).returningAll())
    .with('m', (q) => q.updateTable('memberships').set({ role }).where('userId', '=', userId).where('organizationId', '=', organizationId))
    .selectFrom('u').select(COLUMNS).$narrowType<UserNarrowing>().executeTakeFirst();
}

/** Marks an active person removed and ends every membership of theirs, in one statement. */
export async function markRemoved(tx: SqlExecutor, organizationId: string, userId: string): Promise<User | undefined> {
  return typed(tx)
    .with('u', (q) => q.updateTable('users').set({ removedAt: sql<Date>`NOW()`, updatedAt: sql<Date>`NOW()` })
      .where('id', '=', userId).where('organizationId', '=', organizationId).where(active).returningAll())
    .with('m', (q) => q.deleteFrom('memberships').where('userId', 'in', (eb) => eb.selectFrom('u').select('id')))
    .selectFrom('u').select(COLUMNS).$narrowType<UserNarrowing>().executeTakeFirst();
}

/** Spent and expired reset links are of no use to anyone: dropped as new ones are made. */
export async function deleteExpiredPasswordResets(db: SqlExecutor): Promise<void> {
  await typed(db).deleteFrom('passwordResets').where('expiresAt', '<', sql<Date>`NOW()`).execute();
}

/** Keeps a new reset link's hash (never the token itself). */
export async function insertPasswordReset(db: SqlExecutor, reset: { tokenHash: string; userId: string; expiresAt: Date }): Promise<void> {
  await typed(db).insertInto('passwordResets').values(reset).execute();
}

/** Spends a usable reset link; the person it was for, or undefined when it is used, expired or unknown. */
export async function spendPasswordReset(tx: SqlExecutor, tokenHash: string): Promise<string | undefined> {
  const spent = await typed(tx).updateTable('passwordResets').set({ usedAt: sql<Date>`NOW()` })
    .where('tokenHash', '=', tokenHash).where('usedAt', 'is', null).where('expiresAt', '>', sql<Date>`NOW()`)
    .returning('userId').executeTakeFirst();
  return spent?.userId;
}

/** Every other unused link of the person is spent with it. */
export async function spendOtherPasswordResets(tx: SqlExecutor, userId: string): Promise<void> {
  await typed(tx).updateTable('passwordResets').set({ usedAt: sql<Date>`NOW()` }).where('userId', '=', userId).where('usedAt', 'is', null).execute();
}

/** Writes an active person's new password hash; who they are, or undefined when they were removed. */
export async function resetPasswordHash(tx: SqlExecutor, userId: string, passwordHash: string) {
  return typed(tx).updateTable('users').set({ passwordHash, updatedAt: sql<Date>`NOW()` })
    .where('id', '=', userId).where(active).returning(['id', 'organizationId']).executeTakeFirst();
}
