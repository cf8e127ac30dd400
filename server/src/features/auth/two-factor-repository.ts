import type { SqlExecutor, RelationalStore } from '../../stores/relational/index.ts';

export interface SecondFactorState {
  totpSecret: string | null;
  pendingSecret: string | null;
  lastStep: number | null;
  recoveryCodesLeft: number;
  organizationRequires: boolean;
}

export async function secondFactorState(db: SqlExecutor, userId: string): Promise<SecondFactorState> {
  const { rows } = await db.query<{ totpSecret: string | null; pendingSecret: string | null; lastStep: string | null; left: number; requires: boolean }>(
    `SELECT u.totp_secret AS "totpSecret", u.totp_pending_secret AS "pendingSecret", u.totp_last_step AS "lastStep",
       (SELECT count(*)::int FROM recovery_codes r WHERE r.user_id = u.id AND r.used_at IS NULL) AS "left",
       COALESCE(o.require_two_factor, false) AS requires
     FROM users u LEFT JOIN organizations o ON o.id = u.organization_id WHERE u.id = $1`,
    [userId],
  );
  const row = rows[0];
  return {
    totpSecret: row?.totpSecret ?? null, pendingSecret: row?.pendingSecret ?? null,
    lastStep: row?.lastStep == null ? null : Number(row.lastStep), recoveryCodesLeft: row?.left ?? 0, organizationRequires: row?.requires ?? false,
  };
}

export async function setPendingSecret(db: SqlExecutor, userId: string, secret: string): Promise<void> {
  await db.query('UPDATE users SET totp_pending_secret = $2 WHERE id = $1', [userId, secret]);
}

/** Makes the pending secret the one in use, with its first accepted step and fresh recovery codes. */
export async function confirmSecret(db: RelationalStore, userId: string, secret: string, step: number, codeHashes: string[]): Promise<boolean> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query(
      `UPDATE users SET totp_secret = $2, totp_pending_secret = NULL, totp_last_step = $3 WHERE id = $1 AND totp_pending_secret = $2 RETURNING id`,
      [userId, secret, step],
    );
    if (rows.length === 0) return false;
    await replaceCodes(tx, userId, codeHashes);
    return true;
  });
}

async function replaceCodes(db: SqlExecutor, userId: string, codeHashes: string[]): Promise<void> {
  await db.query('DELETE FROM recovery_codes WHERE user_id = $1', [userId]);
  await db.query('INSERT INTO recovery_codes (user_id, code_hash) SELECT $1, unnest($2::text[])', [userId, codeHashes]);
}

export async function setRecoveryCodes(db: RelationalStore, userId: string, codeHashes: string[]): Promise<void> {
  await db.transaction((tx) => replaceCodes(tx, userId, codeHashes));
}

/** Accepts `step` only when it is newer than the last one accepted: two racing logins cannot both spend one code. */
export async function spendStep(db: SqlExecutor, userId: string, step: number): Promise<boolean> {
  const { rows } = await db.query(
    'UPDATE users SET totp_last_step = $2 WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2) RETURNING id', [userId, step]);
  return rows.length > 0;
}

export async function spendRecoveryCode(db: SqlExecutor, userId: string, codeHash: string): Promise<boolean> {
  const { rows } = await db.query(
    'UPDATE recovery_codes SET used_at = NOW() WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL RETURNING user_id', [userId, codeHash]);
  return rows.length > 0;
}

export async function clearSecondFactor(db: RelationalStore, userId: string): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query('UPDATE users SET totp_secret = NULL, totp_pending_secret = NULL, totp_last_step = NULL WHERE id = $1', [userId]);
    await tx.query('DELETE FROM recovery_codes WHERE user_id = $1', [userId]);
  });
}

export async function setOrganizationRequirement(db: SqlExecutor, organizationId: string, required: boolean): Promise<void> {
  await db.query('UPDATE organizations SET require_two_factor = $2, updated_at = NOW() WHERE id = $1', [organizationId, required]);
}
