import { OFFLINE_AFTER_INTERVALS } from '@ninjait/shared';
import type { SqlExecutor } from '../stores/relational/index.ts';

/** Marks devices offline after they missed OFFLINE_AFTER_INTERVALS of their own reporting interval. */
export async function markQuietDevicesOffline(db: SqlExecutor): Promise<{ id: string; organizationId: string }[]> {
  const { rows } = await db.query<{ id: string; organizationId: string }>(
    `UPDATE devices SET status = 'offline'
     WHERE status = 'online' AND last_seen < NOW() - make_interval(secs => report_interval_ms * $1 / 1000.0)
     RETURNING id, organization_id AS "organizationId"`,
    [OFFLINE_AFTER_INTERVALS],
  );
  return rows;
}
