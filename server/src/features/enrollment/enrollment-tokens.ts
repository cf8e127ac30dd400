import type { SqlExecutor } from '../../stores/relational/index.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import { hashSecret, newSecret } from '../../platform/secrets.ts';
import { insertToken, markTokenRevoked, selectTokens, takeTokenUse, tokenStateLocking, type EnrollmentToken } from './repository.ts';

export type { EnrollmentToken } from './repository.ts';

/** Tokens are recognisable in logs and secret scanners by this prefix. */
export const TOKEN_PREFIX = 'nit_';

/** Creates a token; the clear text is returned once and only its hash is kept. */
export async function createEnrollmentToken(
  db: SqlExecutor,
  input: { organizationId: string; name: string; expiresInSec: number; maxUses: number; createdBy: string | null },
): Promise<{ token: string; record: EnrollmentToken }> {
  const token = newSecret(TOKEN_PREFIX);
  const record = await insertToken(db, {
    organizationId: input.organizationId, tokenHash: hashSecret(token), name: input.name, expiresInSec: input.expiresInSec,
    maxUses: input.maxUses, createdBy: input.createdBy,
  });
  return { token, record };
}

export async function listEnrollmentTokens(db: SqlExecutor, organizationId: string): Promise<EnrollmentToken[]> {
  return selectTokens(db, organizationId);
}

export async function revokeEnrollmentToken(db: SqlExecutor, organizationId: string, id: string): Promise<EnrollmentToken> {
  const revoked = await markTokenRevoked(db, organizationId, id);
  if (!revoked) throw notFound('Enrollment token');
  return revoked;
}

/**
 * Checks an enrollment token without locking its row, so enrollments with one fleet token do not
 * queue behind each other for their whole transaction (the use is taken at the end, atomically);
 * with a good token, the transaction holds the advisory lock of (`lockClass`,
 * "organization:machineKey") from here, taken in the same round trip.
 */
export async function checkEnrollmentTokenAndLock(tx: SqlExecutor, token: string, lockClass: number, machineKey: string): Promise<{ tokenId: string; organizationId: string }> {
  const row = await tokenStateLocking(tx, hashSecret(token), lockClass, machineKey);
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
  if (!(await takeTokenUse(tx, tokenId))) throw new AppError('UNAUTHORIZED', 'Enrollment token is no longer valid (used up, revoked or expired)');
}
