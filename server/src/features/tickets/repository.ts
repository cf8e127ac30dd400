import { sql, type ExpressionBuilder } from 'kysely';
import { typed, type SqlExecutor } from '../../stores/relational/index.ts';
import type { DevicesTable, TicketsTable } from '../../stores/relational/schema.ts';
import type { Ticket, TicketComment, TicketPriority, TicketStatus } from './model.ts';

/**
 * Every query of tickets: the tickets, their comments and their event log (which the ETL carries
 * to ClickHouse). Typed with Kysely; each function is one statement on the caller's executor.
 */

const COLUMNS = [
  'id', 'title', 'description', 'status', 'priority', 'organizationId', 'assignedTo', 'createdBy', 'deviceId',
  'createdAt', 'updatedAt', 'slaDueAt', 'closedAt',
] as const;
const COMMENT_COLUMNS = ['id', 'authorId', 'body', 'createdAt'] as const;

/** What the schema leaves wider than the rows are: values the code writes, and columns set on insert. */
type TicketNarrowing = { status: TicketStatus; priority: TicketPriority; organizationId: string; createdAt: Date; updatedAt: Date; slaDueAt: Date };

/** Reads add the linked device's name; a device of another organization is never named. */
const deviceName = (eb: ExpressionBuilder<{ tickets: TicketsTable; devices: DevicesTable }, 'tickets'>) =>
  eb.selectFrom('devices as d').select('d.name')
    .whereRef('d.id', '=', 'tickets.deviceId').whereRef('d.organizationId', '=', 'tickets.organizationId')
    .$asScalar().as('deviceName');

/** One change in the ticket's event log; returns the log row's id. */
export async function insertTicketEvent(tx: SqlExecutor, ticket: Pick<Ticket, 'id' | 'organizationId'>,
  event: { type: string; technicianId: string | null; durationSeconds: number; slaBreached: boolean }): Promise<number> {
  const row = await typed(tx).insertInto('ticketEventLog')
    .values({
      ticketId: ticket.id, organizationId: ticket.organizationId, eventType: event.type, technicianId: event.technicianId,
      durationSeconds: event.durationSeconds, slaBreached: event.slaBreached,
    })
    .returning('id').executeTakeFirstOrThrow();
  return row.id;
}

/** A ticket of the organization, locked to the commit. */
export async function lockTicketRow(tx: SqlExecutor, organizationId: string, id: string): Promise<Ticket | undefined> {
  return typed(tx).selectFrom('tickets').select(COLUMNS).where('id', '=', id).where('organizationId', '=', organizationId)
    .forUpdate().$narrowType<TicketNarrowing>().executeTakeFirst();
}

/** Whether the person belongs to the organization (and was not removed). */
export async function isMember(db: SqlExecutor, organizationId: string, userId: string): Promise<boolean> {
  const row = await typed(db).selectFrom('users').select(sql.lit(1).as('one'))
    .where('id', '=', userId).where('organizationId', '=', organizationId).where('removedAt', 'is', null).executeTakeFirst();
  return row !== undefined;
}

/** Whether the device is the organization's (retired ones too: a ticket may be about one). */
export async function isOrganizationDevice(db: SqlExecutor, organizationId: string, deviceId: string): Promise<boolean> {
  const row = await typed(db).selectFrom('devices').select(sql.lit(1).as('one'))
    .where('id', '=', deviceId).where('organizationId', '=', organizationId).executeTakeFirst();
  return row !== undefined;
}

/** A new open ticket, due `slaHours` from the database's now. */
export async function insertTicket(tx: SqlExecutor, ticket: {
  title: string; description: string | null; priority: TicketPriority; organizationId: string; assignedTo: string | null;
  createdBy: string | null; deviceId: string | null; slaHours: number;
}): Promise<Ticket> {
  const { slaHours, ...values } = ticket;
  return typed(tx).insertInto('tickets')
    .values({ ...values, status: sql.lit('open'), slaDueAt: sql<Date>`NOW() + make_interval(hours => ${slaHours})` })
    .returning(COLUMNS).$narrowType<TicketNarrowing>().executeTakeFirstOrThrow();
}

/** Writes a ticket's fields; its SLA due time follows the priority (`slaHours` from creation). */
export async function updateTicketRow(tx: SqlExecutor, organizationId: string, id: string, fields: {
  title: string; description: string | null; priority: TicketPriority; status: TicketStatus; slaHours: number;
}): Promise<Ticket> {
  const { slaHours, ...values } = fields;
  return typed(tx).updateTable('tickets')
    .set((eb) => ({ ...values, updatedAt: sql<Date>`NOW()`, slaDueAt: sql<Date>`${eb.ref('createdAt')} + make_interval(hours => ${slaHours})` }))
    .where('id', '=', id).where('organizationId', '=', organizationId)
    .returning(COLUMNS).$narrowType<TicketNarrowing>().executeTakeFirstOrThrow();
}

export async function setAssignee(tx: SqlExecutor, organizationId: string, id: string, assignedTo: string | null): Promise<Ticket> {
  return typed(tx).updateTable('tickets').set({ assignedTo, updatedAt: sql<Date>`NOW()` })
    .where('id', '=', id).where('organizationId', '=', organizationId)
    .returning(COLUMNS).$narrowType<TicketNarrowing>().executeTakeFirstOrThrow();
}

export async function insertComment(tx: SqlExecutor, ticketId: string, authorId: string, body: string): Promise<TicketComment> {
  return typed(tx).insertInto('ticketComments').values({ ticketId, authorId, body })
    .returning(COMMENT_COLUMNS).$narrowType<{ createdAt: Date }>().executeTakeFirstOrThrow();
}

/** The ticket changed (a comment): its update time moves. */
export async function touchTicket(tx: SqlExecutor, id: string): Promise<void> {
  await typed(tx).updateTable('tickets').set({ updatedAt: sql<Date>`NOW()` }).where('id', '=', id).execute();
}

/** Closes a ticket now, with the whole seconds it was open and whether it closed past its SLA. */
export async function markClosed(tx: SqlExecutor, organizationId: string, id: string) {
  return typed(tx).updateTable('tickets')
    .set({ status: sql.lit('closed'), closedAt: sql<Date>`NOW()`, updatedAt: sql<Date>`NOW()` })
    .where('id', '=', id).where('organizationId', '=', organizationId)
    .returning((eb) => [
      ...COLUMNS,
      sql<number>`GREATEST(0, floor(extract(epoch FROM ${eb.ref('closedAt')} - ${eb.ref('createdAt')})))::int`.as('durationSeconds'),
      eb('closedAt', '>', eb.ref('slaDueAt')).as('slaBreached'),
    ])
    .$narrowType<TicketNarrowing & { slaBreached: boolean }>().executeTakeFirstOrThrow();
}

/** The organization's tickets, newest first, optionally of one status or one device. */
export async function selectTickets(db: SqlExecutor, organizationId: string, filter: { status?: TicketStatus | undefined; deviceId?: string | undefined; limit: number }) {
  return typed(db).selectFrom('tickets').select((eb) => [...COLUMNS, deviceName(eb)])
    .where('organizationId', '=', organizationId)
    .$if(filter.status !== undefined, (query) => query.where('status', '=', filter.status!))
    .$if(filter.deviceId !== undefined, (query) => query.where('deviceId', '=', filter.deviceId!))
    .orderBy('createdAt', 'desc').orderBy('id').limit(filter.limit)
    .$narrowType<TicketNarrowing>().execute();
}

export async function selectTicket(db: SqlExecutor, organizationId: string, id: string) {
  return typed(db).selectFrom('tickets').select((eb) => [...COLUMNS, deviceName(eb)])
    .where('id', '=', id).where('organizationId', '=', organizationId)
    .$narrowType<TicketNarrowing>().executeTakeFirst();
}

/** A ticket's comments, oldest first. */
export async function selectComments(db: SqlExecutor, ticketId: string): Promise<TicketComment[]> {
  return typed(db).selectFrom('ticketComments').select(COMMENT_COLUMNS).where('ticketId', '=', ticketId)
    .orderBy('createdAt').orderBy('id').$narrowType<{ createdAt: Date }>().execute();
}
