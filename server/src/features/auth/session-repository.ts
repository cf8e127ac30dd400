import { roleSchema } from '@ninjait/shared';
import type { SqlExecutor } from '../../stores/relational/index.ts';
import type { SessionStore, SessionUser } from './session-store.ts';

/**
 * Expired rows deleted per new session: logins then clean up after themselves a little at a time,
 * so no sweep job is needed and no login pays for a long backlog at once.
 */
export const EXPIRED_SESSIONS_PER_LOGIN = 50;

interface SessionRow {
  userId: string;
  email: string;
  role: string;
  organizationId: string;
  restricted: string | null;
  ip: string | null;
  createdAt: Date;
}

const COLUMNS = `user_id AS "userId", email, role, organization_id AS "organizationId", restricted, ip, created_at AS "createdAt"`;

/** A row as a session's user; a role the code no longer knows grants nothing (null). */
function toUser(row: SessionRow): SessionUser | null {
  const role = roleSchema.safeParse(row.role);
  if (!role.success) return null;
  return {
    userId: row.userId, email: row.email, role: role.data, organizationId: row.organizationId, ip: row.ip, createdAt: row.createdAt.toISOString(),
    ...(row.restricted === 'two_factor_setup' ? { restricted: 'two_factor_setup' as const } : {}),
  };
}

/**
 * Sessions in the `sessions` table (migration 011): the store when the cache is in-process, so a
 * restart logs nobody out. Expiry is the database's clock, the same for every instance.
 */
export function createRelationalSessionStore(db: SqlExecutor): SessionStore {
  return {
    kind: 'relational',
    async put(tokenHash, user, ttlSec) {
      await db.query(
        `DELETE FROM sessions WHERE token_hash IN (
           SELECT token_hash FROM sessions WHERE expires_at <= NOW() ORDER BY expires_at LIMIT ${EXPIRED_SESSIONS_PER_LOGIN})`,
      );
      await db.query(
        `INSERT INTO sessions (token_hash, user_id, organization_id, email, role, expires_at, ip, restricted)
         VALUES ($1, $2, $3, $4, $5, NOW() + $6::int * INTERVAL '1 second', $7, $8)`,
        [tokenHash, user.userId, user.organizationId, user.email, user.role, ttlSec, user.ip?.slice(0, 64) ?? null, user.restricted ?? null],
      );
    },
    async get(tokenHash) {
      const { rows } = await db.query<SessionRow>(`SELECT ${COLUMNS} FROM sessions WHERE token_hash = $1 AND expires_at > NOW()`, [tokenHash]);
      const row = rows[0];
      return row ? toUser(row) : null;
    },
    async remove(tokenHash) {
      await db.query('DELETE FROM sessions WHERE token_hash = $1', [tokenHash]);
    },
    async removeAllFor(userId) {
      await db.query('DELETE FROM sessions WHERE user_id = $1', [userId]);
    },
    async list(userId) {
      const { rows } = await db.query<SessionRow & { tokenHash: string }>(
        `SELECT token_hash AS "tokenHash", ${COLUMNS} FROM sessions WHERE user_id = $1 AND expires_at > NOW() ORDER BY created_at DESC LIMIT 200`, [userId]);
      return rows.flatMap((row) => {
        const user = toUser(row);
        return user ? [{ tokenHash: row.tokenHash, user }] : [];
      });
    },
  };
}
