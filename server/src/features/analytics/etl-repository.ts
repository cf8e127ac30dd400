import { sql } from 'kysely';
import { secondsAgo, typed, type SqlExecutor } from '../../stores/relational/index.ts';

/**
 * What the ETL jobs read from PostgreSQL to copy into ClickHouse, typed with Kysely so a renamed
 * column is a compile error. The ClickHouse side keeps its SQL text in the jobs (the seed's spec).
 */

const TICKET_EVENTS_CURSOR = 'ticket_events';

export interface LoggedTicketEvent {
  id: number;
  ticketId: string;
  organizationId: string;
  eventType: string;
  technicianId: string | null;
  durationSeconds: number;
  slaBreached: boolean;
  at: Date;
}

/** Ticket events after the copy's cursor and older than `settleSec` (lower ids may still be committing), oldest first. */
export async function ticketEventsAfterCursor(db: SqlExecutor, settleSec: number, limit: number): Promise<LoggedTicketEvent[]> {
  await typed(db).insertInto('analyticsCursors').values({ name: TICKET_EVENTS_CURSOR })
    .onConflict((conflict) => conflict.column('name').doNothing()).execute();
  const { position } = await typed(db).selectFrom('analyticsCursors').select('position')
    .where('name', '=', TICKET_EVENTS_CURSOR).executeTakeFirstOrThrow();
  return typed(db).selectFrom('ticketEventLog')
    .select(['id', 'ticketId', 'organizationId', 'eventType', 'technicianId', 'durationSeconds', 'slaBreached', 'createdAt as at'])
    .where('id', '>', position).where('createdAt', '<', secondsAgo(settleSec))
    .orderBy('id').limit(limit)
    .execute();
}

export async function advanceTicketEventCursor(db: SqlExecutor, position: number): Promise<void> {
  await typed(db).updateTable('analyticsCursors').set({ position, updatedAt: sql<Date>`NOW()` })
    .where('name', '=', TICKET_EVENTS_CURSOR).execute();
}

/** Every organization's live and online device counts (zero for one without devices). */
export async function deviceCountsByOrganization(db: SqlExecutor): Promise<{ organizationId: string; total: number; online: number }[]> {
  return typed(db).selectFrom('organizations as o').leftJoin('devices as d', 'd.organizationId', 'o.id')
    .select([
      'o.id as organizationId',
      sql<number>`count(d.id) FILTER (WHERE d.decommissioned_at IS NULL)::int`.as('total'),
      sql<number>`count(d.id) FILTER (WHERE d.decommissioned_at IS NULL AND d.status = 'online')::int`.as('online'),
    ])
    .groupBy('o.id')
    .execute();
}

/** Each device of an organization with its status as the status view counts it (decommissioned wins). */
export async function deviceStatuses(db: SqlExecutor): Promise<{ id: string; organizationId: string; status: string }[]> {
  return typed(db).selectFrom('devices')
    .select((eb) => [
      'id', eb.ref('organizationId').$notNull().as('organizationId'),
      eb.case().when('decommissionedAt', 'is not', null).then(sql.lit('decommissioned')).else(eb.ref('status')).end().as('status'),
    ])
    .where('organizationId', 'is not', null)
    .$narrowType<{ status: string }>()
    .execute();
}
