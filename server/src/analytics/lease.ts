import type { SqlExecutor } from '../stores/relational/index.ts';

/**
 * Runs `task` only while this instance holds the named lease, so one instance at a time runs
 * each analytics job (delete-then-insert rollups are not safe to run concurrently).
 * Returns false when another instance holds it.
 */
export async function withJobLease(db: SqlExecutor, name: string, owner: string, leaseMs: number, task: () => Promise<unknown>): Promise<boolean> {
  const { rows } = await db.query(
    `INSERT INTO job_leases (name, owner, lease_until) VALUES ($1, $2, NOW() + make_interval(secs => $3 / 1000.0))
     ON CONFLICT (name) DO UPDATE SET owner = EXCLUDED.owner, lease_until = EXCLUDED.lease_until
       WHERE job_leases.owner = EXCLUDED.owner OR job_leases.lease_until < NOW()
     RETURNING name`,
    [name, owner, leaseMs],
  );
  if (rows.length === 0) return false;
  try {
    await task();
  } finally {
    await db.query('UPDATE job_leases SET lease_until = NOW() WHERE name = $1 AND owner = $2', [name, owner]);
  }
  return true;
}
