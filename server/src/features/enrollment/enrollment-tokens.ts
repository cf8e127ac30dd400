import type { SqlExecutor } from '../../stores/relational/index.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import { hashSecret, newSecret } from '../../platform/secrets.ts';
import { insertToken, markTokenRevoked, reserveTokenUse, returnTokenUse, selectTokens, tokenState, type EnrollmentToken } from './repository.ts';

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
 * Takes one use of an enrollment token, or says why it cannot be used. The use is taken before the
 * enrollment's transaction, not in it: held to that transaction's commit, the token's row made every
 * enrollment of a fleet wait for the one before it to reach the disk. An enrollment that fails
 * after this gives the use back (`returnEnrollmentTokenUse`); one lost in a crash is a use spent
 * for nothing, never a device beyond the token's `maxUses`.
 */
export async function takeEnrollmentTokenUse(db: SqlExecutor, token: string): Promise<{ tokenId: string; organizationId: string }> {
  const tokenHash = hashSecret(token);
  const reserved = await reserveTokenUse(db, tokenHash);
  if (reserved) return { tokenId: reserved.id, organizationId: reserved.organizationId };
  const row = await tokenState(db, tokenHash);
  if (!row) throw new AppError('UNAUTHORIZED', 'Enrollment token is not valid');
  if (row.revoked) throw new AppError('UNAUTHORIZED', 'Enrollment token has been revoked');
  if (row.expired) throw new AppError('UNAUTHORIZED', 'Enrollment token has expired');
  if (row.usedUp) throw new AppError('UNAUTHORIZED', 'Enrollment token has been used the maximum number of times');
  // Good again by now (a use given back meanwhile): refused all the same, as a race lost.
  throw new AppError('UNAUTHORIZED', 'Enrollment token is no longer valid (used up, revoked or expired)');
}

/** Gives back the use an enrollment took and could not finish. */
export async function returnEnrollmentTokenUse(db: SqlExecutor, tokenId: string): Promise<void> {
  await returnTokenUse(db, tokenId);
}
