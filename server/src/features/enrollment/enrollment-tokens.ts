import type { SqlExecutor } from '../../stores/relational/index.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import { hashSecret, newSecret } from '../../platform/secrets.ts';

export interface EnrollmentToken {
  id: string;
  organizationId: string;
  name: string;
  expiresAt: Date;
  maxUses: number;
  uses: number;
  revokedAt: Date | null;
  createdAt: Date;
}

const COLUMNS = `id, organization_id AS "organizationId", name, expires_at AS "expiresAt", max_uses AS "maxUses",
  uses, revoked_at AS "revokedAt", created_at AS "createdAt"`;
/** Tokens are recognisable in logs and secret scanners by this prefix. */
export const TOKEN_PREFIX = 'nit_';

/** Creates a token; the clear text is returned once and only its hash is kept. */
export async function createEnrollmentToken(
  db: SqlExecutor,
  input: { organizationId: string; name: string; expiresInSec: number; maxUses: number; createdBy: string | null },
): Promise<{ token: string; record: EnrollmentToken }> {
  const token = newSecret(TOKEN_PREFIX);
  const { rows } = await db.query<EnrollmentToken>(
    `INSERT INTO enrollment_tokens (organization_id, token_hash, name, expires_at, max_uses, created_by)
     VALUES ($1, $2, $3, NOW() + make_interval(secs => $4), $5, $6) RETURNING ${COLUMNS}`,
    [input.organizationId, hashSecret(token), input.name, input.expiresInSec, input.maxUses, input.createdBy],
  );
  return { token, record: rows[0]! };
}

export async function listEnrollmentTokens(db: SqlExecutor, organizationId: string): Promise<EnrollmentToken[]> {
  const { rows } = await db.query<EnrollmentToken>(
    `SELECT ${COLUMNS} FROM enrollment_tokens WHERE organization_id = $1 ORDER BY created_at DESC`,
    [organizationId],
  );
  return rows;
}

export async function revokeEnrollmentToken(db: SqlExecutor, organizationId: string, id: string): Promise<EnrollmentToken> {
  const { rows } = await db.query<EnrollmentToken>(
    `UPDATE enrollment_tokens SET revoked_at = COALESCE(revoked_at, NOW())
     WHERE id = $1 AND organization_id = $2 RETURNING ${COLUMNS}`,
    [id, organizationId],
  );
  if (!rows[0]) throw notFound('Enrollment token');
  return rows[0];
}

/**
 * Checks an enrollment token without locking it, so enrollments with one fleet token do not
 * queue behind each other for their whole transaction; `useEnrollmentToken` takes the use
 * at the end, atomically.
 */
export async function checkEnrollmentToken(tx: SqlExecutor, token: string): Promise<{ tokenId: string; organizationId: string }> {
  const { rows } = await tx.query<{ id: string; organizationId: string; expired: boolean; revoked: boolean; usedUp: boolean }>(
    `SELECT id, organization_id AS "organizationId", expires_at <= NOW() AS expired,
       revoked_at IS NOT NULL AS revoked, uses >= max_uses AS "usedUp"
     FROM enrollment_tokens WHERE token_hash = $1`,
    [hashSecret(token)],
  );
  const row = rows[0];
  if (!row) throw new AppError('UNAUTHORIZED', 'Enrollment token is not valid');
  if (row.revoked) throw new AppError('UNAUTHORIZED', 'Enrollment token has been revoked');
  if (row.expired) throw new AppError('UNAUTHORIZED', 'Enrollment token has expired');
  if (row.usedUp) throw new AppError('UNAUTHORIZED', 'Enrollment token has been used the maximum number of times');
  return { tokenId: row.id, organizationId: row.organizationId };
}

/**
 * Counts one use, only if the token is still good: the row lock lasts from here to the
 * commit, and a concurrent enrollment that took the last use makes this one fail (and roll back).
 */
export async function useEnrollmentToken(tx: SqlExecutor, tokenId: string): Promise<void> {
  const { rowCount } = await tx.query(
    `UPDATE enrollment_tokens SET uses = uses + 1
     WHERE id = $1 AND uses < max_uses AND revoked_at IS NULL AND expires_at > NOW()`,
    [tokenId],
  );
  if (rowCount === 0) throw new AppError('UNAUTHORIZED', 'Enrollment token is no longer valid (used up, revoked or expired)');
}
