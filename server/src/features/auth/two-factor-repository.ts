import { sql } from 'kysely';
import { typed, type SqlExecutor, type RelationalStore } from '../../stores/relational/index.ts';

/**
 * Every query of the second factor: the person's TOTP secrets and last accepted step, their
 * recovery codes, and the organization's requirement. Typed with Kysely; one statement each, as before.
 */

export interface SecondFactorState {
  totpSecret: string | null;
  pendingSecret: string | null;
  lastStep: number | null;
  recoveryCodesLeft: number;
  organizationRequires: boolean;
}

export async function secondFactorState(db: SqlExecutor, userId: string): Promise<SecondFactorState> {
  const row = await typed(db).selectFrom('users as u').leftJoin('organizations as o', 'o.id', 'u.organizationId')
    .select((eb) => [
      'u.totpSecret', 'u.totpPendingSecret', 'u.totpLastStep',
      eb.selectFrom('recoveryCodes as r').select(sql<number>`count(*)::int`.as('n'))
        .whereRef('r.userId', '=', 'u.id').where('r.usedAt', 'is', null).$asScalar().as('left'),
      eb.fn.coalesce('o.requireTwoFactor', sql.lit(false)).as('requires'),
    ])
    .where('u.id', '=', userId).executeTakeFirst();
  return {
    totpSecret: row?.totpSecret ?? null, pendingSecret: row?.totpPendingSecret ?? null,
    // A bigint column: the driver may hand it over as text.
    lastStep: row?.totpLastStep == null ? null : Number(row.totpLastStep), recoveryCodesLeft: row?.left ?? 0, organizationRequires: row?.requires ?? false,
  };
}

export async function setPendingSecret(db: SqlExecutor, userId: string, secret: string): Promise<void> {
  await typed(db).updateTable('users').set({ totpPendingSecret: secret }).where('id', '=', userId).execute();
}

/** Makes the pending secret the one in use, with its first accepted step and fresh recovery codes. */
export async function confirmSecret(db: RelationalStore, userId: string, secret: string, step: number, codeHashes: string[]): Promise<boolean> {
  return db.transaction(async (tx) => {
    const rows = await typed(tx).updateTable('users').set({ totpSecret: secret, totpPendingSecret: null, totpLastStep: step })
      .where('id', '=', userId).where('totpPendingSecret', '=', secret).returning('id').execute();
    if (rows.length === 0) return false;
    await replaceCodes(tx, userId, codeHashes);
    return true;
  });
}

async function replaceCodes(db: SqlExecutor, userId: string, codeHashes: string[]): Promise<void> {
  await typed(db).deleteFrom('recoveryCodes').where('userId', '=', userId).execute();
  // One statement however many codes: the hashes travel as one text[] parameter.
  await typed(db).insertInto('recoveryCodes').columns(['userId', 'codeHash'])
    .expression(typed(db).selectNoFrom([sql<string>`${userId}`.as('userId'), sql<string>`unnest(${codeHashes}::text[])`.as('codeHash')]))
    .execute();
}

export async function setRecoveryCodes(db: RelationalStore, userId: string, codeHashes: string[]): Promise<void> {
  await db.transaction((tx) => replaceCodes(tx, userId, codeHashes));
}

/** Accepts `step` only when it is newer than the last one accepted: two racing logins cannot both spend one code. */
export async function spendStep(db: SqlExecutor, userId: string, step: number): Promise<boolean> {
  const rows = await typed(db).updateTable('users').set({ totpLastStep: step })
    .where('id', '=', userId).where((eb) => eb.or([eb('totpLastStep', 'is', null), eb('totpLastStep', '<', step)]))
    .returning('id').execute();
  return rows.length > 0;
}

export async function spendRecoveryCode(db: SqlExecutor, userId: string, codeHash: string): Promise<boolean> {
  const rows = await typed(db).updateTable('recoveryCodes').set({ usedAt: sql<Date>`NOW()` })
    .where('userId', '=', userId).where('codeHash', '=', codeHash).where('usedAt', 'is', null).returning('userId').execute();
  return rows.length > 0;
}

export async function clearSecondFactor(db: RelationalStore, userId: string): Promise<void> {
  await db.transaction(async (tx) => {
    await typed(tx).updateTable('users').set({ totpSecret: null, totpPendingSecret: null, totpLastStep: null }).where('id', '=', userId).execute();
    await typed(tx).deleteFrom('recoveryCodes').where('userId', '=', userId).execute();
  });
}

export async function setOrganizationRequirement(db: SqlExecutor, organizationId: string, required: boolean): Promise<void> {
  await typed(db).updateTable('organizations').set({ requireTwoFactor: required, updatedAt: sql<Date>`NOW()` }).where('id', '=', organizationId).execute();
}
