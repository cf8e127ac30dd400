import { sql } from 'kysely';
import { typed, type SqlExecutor } from '../../stores/relational/index.ts';

/** The queries of updates and install links, typed with Kysely over the relational port. */

/** The agent version a device last reported (in a heartbeat), or undefined for an unknown device. */
export async function reportedAgentVersion(db: SqlExecutor, deviceId: string): Promise<string | null | undefined> {
  const row = await typed(db).selectFrom('devices').select('agentVersion').where('id', '=', deviceId).executeTakeFirst();
  return row?.agentVersion;
}

/** Whether the enrollment token with this hash could still enroll a device (nothing is used up). */
export async function tokenUsable(db: SqlExecutor, tokenHash: string): Promise<boolean> {
  const row = await typed(db).selectFrom('enrollmentTokens')
    .select((eb) => eb.and([eb('revokedAt', 'is', null), eb('expiresAt', '>', sql<Date>`NOW()`), eb('uses', '<', eb.ref('maxUses'))]).as('usable'))
    .where('tokenHash', '=', tokenHash).executeTakeFirst();
  return row?.usable === true;
}
