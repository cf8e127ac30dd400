import { sql } from 'kysely';
import { typed, type SqlExecutor } from '../../stores/relational/index.ts';

export interface TargetDevice {
  organizationId: string;
  name: string;
  approved: boolean;
}

/** The SQL of remote access: which device a caller may reach. */
export function remoteRepository(db: SqlExecutor) {
  return {
    /** The device in the caller's organization (null: any, for the local admin), not decommissioned. */
    async device(deviceId: string, organizationId: string | null): Promise<TargetDevice | null> {
      const row = await typed(db).selectFrom('devices')
        .select((eb) => ['organizationId', 'name', eb('approvalState', '=', sql.lit('approved')).as('approved')])
        .where('id', '=', deviceId).where('decommissionedAt', 'is', null)
        .$if(organizationId !== null, (query) => query.where('organizationId', '=', organizationId!))
        // Enrolled devices always have an organization; the column allows none only for rows older than organizations.
        .$narrowType<{ organizationId: string; approved: boolean }>()
        .executeTakeFirst();
      return row ?? null;
    },
  };
}
