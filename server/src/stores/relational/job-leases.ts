import type { JobLeases } from '../../platform/scheduler/scheduler.ts';
import type { SqlExecutor } from './types.ts';

/**
 * The scheduler's leases in `job_leases`: a row per job, taken when free, expired or already ours,
 * so one instance of the fleet runs each exclusive job at a time.
 */
export function createJobLeases(db: SqlExecutor): JobLeases {
  return {
    async acquire(name, owner, leaseMs) {
      const { rows } = await db.query(
        `INSERT INTO job_leases (name, owner, lease_until) VALUES ($1, $2, NOW() + make_interval(secs => $3 / 1000.0))
         ON CONFLICT (name) DO UPDATE SET owner = EXCLUDED.owner, lease_until = EXCLUDED.lease_until
           WHERE job_leases.owner = EXCLUDED.owner OR job_leases.lease_until <= NOW()
         RETURNING name`,
        [name, owner, leaseMs],
      );
      return rows.length > 0;
    },
    async release(name, owner) {
      // Expire rather than delete: the row stays, and any instance may take the next run. A lease
      // that ends at NOW() is free (`<=` above): PGlite's clock can give the next statement the same instant.
      await db.query('UPDATE job_leases SET lease_until = NOW() WHERE name = $1 AND owner = $2', [name, owner]);
    },
  };
}
