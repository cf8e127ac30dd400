import type { SqlExecutor } from '../../stores/relational/index.ts';

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
      const { rows } = await db.query<TargetDevice>(
        `SELECT organization_id AS "organizationId", name, approval_state = 'approved' AS approved FROM devices
         WHERE id = $1 AND ($2::uuid IS NULL OR organization_id = $2) AND decommissioned_at IS NULL`,
        [deviceId, organizationId],
      );
      return rows[0] ?? null;
    },
  };
}
