import { sql } from 'kysely';
import { roleSchema } from '@ninjait/shared';
import { typed, type SqlExecutor } from '../../stores/relational/index.ts';
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

const COLUMNS = ['userId', 'email', 'role', 'organizationId', 'restricted', 'ip', 'createdAt'] as const;

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
      await typed(db).deleteFrom('sessions').where('tokenHash', 'in', (eb) => eb.selectFrom('sessions').select('tokenHash')
        .where('expiresAt', '<=', sql<Date>`NOW()`).orderBy('expiresAt').limit(sql.lit(EXPIRED_SESSIONS_PER_LOGIN))).execute();
      await typed(db).insertInto('sessions').values({
        tokenHash, userId: user.userId, organizationId: user.organizationId, email: user.email, role: user.role,
        expiresAt: sql<Date>`NOW() + ${ttlSec}::int * INTERVAL '1 second'`, ip: user.ip?.slice(0, 64) ?? null, restricted: user.restricted ?? null,
      }).execute();
    },
    async get(tokenHash) {
      const row: SessionRow | undefined = await typed(db).selectFrom('sessions').select(COLUMNS)
        .where('tokenHash', '=', tokenHash).where('expiresAt', '>', sql<Date>`NOW()`).$narrowType<{ createdAt: Date }>().executeTakeFirst();
      return row ? toUser(row) : null;
    },
    async remove(tokenHash) {
      await typed(db).deleteFrom('sessions').where('tokenHash', '=', tokenHash).execute();
    },
    async removeAllFor(userId) {
      await typed(db).deleteFrom('sessions').where('userId', '=', userId).execute();
    },
    async list(userId) {
      const rows = await typed(db).selectFrom('sessions').select(['tokenHash', ...COLUMNS])
        .where('userId', '=', userId).where('expiresAt', '>', sql<Date>`NOW()`).orderBy('createdAt', 'desc').limit(sql.lit(200))
        .$narrowType<{ createdAt: Date }>().execute();
      return rows.flatMap((row) => {
        const user = toUser(row);
        return user ? [{ tokenHash: row.tokenHash, user }] : [];
      });
    },
  };
}
