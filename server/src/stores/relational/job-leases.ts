import { sql } from 'kysely';
import type { JobLeases } from '../../platform/scheduler/scheduler.ts';
import { typed } from './kysely.ts';
import { msFromNow } from './sql-time.ts';
import type { SqlExecutor } from './types.ts';

/**
 * The scheduler's leases in `job_leases`: a row per job, taken when free, expired or already ours,
 * so one instance of the fleet runs each exclusive job at a time. (The drainers' cursors are
 * leases too, but carry a position and are let go of, not expired: `ingest/drain-cursors.ts`.)
 */
export function createJobLeases(db: SqlExecutor): JobLeases {
  return {
    async acquire(name, owner, leaseMs) {
      const row = await typed(db).insertInto('jobLeases').values({ name, owner, leaseUntil: msFromNow(leaseMs) })
        .onConflict((conflict) => conflict.column('name').doUpdateSet((eb) => ({ owner: eb.ref('excluded.owner'), leaseUntil: eb.ref('excluded.leaseUntil') }))
          .where((eb) => eb.or([eb('jobLeases.owner', '=', eb.ref('excluded.owner')), eb('jobLeases.leaseUntil', '<=', sql<Date>`NOW()`)])))
        .returning('name').executeTakeFirst();
      return row !== undefined;
    },
    async release(name, owner) {
      // Expire rather than delete: the row stays, and any instance may take the next run. A lease
      // that ends at NOW() is free (`<=` above): PGlite's clock can give the next statement the same instant.
      await typed(db).updateTable('jobLeases').set({ leaseUntil: sql<Date>`NOW()` }).where('name', '=', name).where('owner', '=', owner).execute();
    },
  };
}
