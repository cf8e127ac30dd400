import { typed, type SqlExecutor } from '../../stores/relational/index.ts';

/**
 * What billing reads from PostgreSQL besides contracts (`contracts.ts`): the organizations to
 * bill, with their live device counts, and when the first one was created. Typed with Kysely.
 */

/** Every organization with its devices not decommissioned (zero for one without devices). */
export async function liveDeviceCounts(db: SqlExecutor): Promise<{ id: string; devices: number }[]> {
  return typed(db).selectFrom('organizations as o').leftJoin('devices as d', 'd.organizationId', 'o.id')
    .select((eb) => ['o.id', eb.cast<number>(eb.fn.count('d.id').filterWhere('d.decommissionedAt', 'is', null), 'integer').as('devices')])
    .groupBy('o.id')
    .execute();
}

/** When the first organization was created; null when there is none. */
export async function firstOrganizationCreatedAt(db: SqlExecutor): Promise<Date | null> {
  const { first } = await typed(db).selectFrom('organizations').select((eb) => eb.fn.min('createdAt').as('first')).executeTakeFirstOrThrow();
  return first ? new Date(first) : null;
}
