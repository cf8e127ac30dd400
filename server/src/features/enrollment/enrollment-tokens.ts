import type { SqlExecutor } from '../../stores/relational/index.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import { hashSecret, newSecret } from '../../platform/secrets.ts';
import { insertToken, markTokenRevoked, selectTokens, tokenState, type EnrollmentToken } from './repository.ts';

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

/** Why the token with this hash cannot be used now, as the error an enrollment answers with. */
export async function tokenRefusal(db: SqlExecutor, tokenHash: string): Promise<AppError> {
  const row = await tokenState(db, tokenHash);
  if (!row) return new AppError('UNAUTHORIZED', 'Enrollment token is not valid');
  if (row.revoked) return new AppError('UNAUTHORIZED', 'Enrollment token has been revoked');
  if (row.expired) return new AppError('UNAUTHORIZED', 'Enrollment token has expired');
  if (row.usedUp) return new AppError('UNAUTHORIZED', 'Enrollment token has been used the maximum number of times');
  // Good again by now (a use given back meanwhile): refused all the same, as a race lost.
  return new AppError('UNAUTHORIZED', 'Enrollment token is no longer valid (used up, revoked or expired)');
}
