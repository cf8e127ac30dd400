import type { RelationalStore, SqlExecutor } from '../../stores/relational/index.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import type { EventPublisher } from '../events/index.ts';
import { SLA_HOURS, type Ticket, type TicketComment, type TicketPriority, type TicketStatus } from './model.ts';
import {
  insertComment, insertTicket, insertTicketEvent, isMember, isOrganizationDevice, lockTicketRow, markClosed, selectComments, selectTicket,
  selectTickets, setAssignee, touchTicket, updateTicketRow,
} from './repository.ts';

export { SLA_HOURS, TICKET_PRIORITIES, TICKET_STATUSES, type Ticket, type TicketComment, type TicketPriority, type TicketStatus } from './model.ts';

type Event = { type: string; technicianId: string | null; durationSeconds?: number; slaBreached?: boolean };

/** Every change is logged in the same transaction; the ETL carries the log to ClickHouse's ticket_events. */
async function logEvent(tx: SqlExecutor, events: EventPublisher, ticket: Ticket, event: Event) {
  const logId = await insertTicketEvent(tx, ticket, {
    type: event.type, technicianId: event.technicianId, durationSeconds: event.durationSeconds ?? 0, slaBreached: event.slaBreached ?? false,
  });
  // Integrations hear of the change in the same transaction; the log row makes it one event.
  await events.publish(tx, {
    type: event.type === 'created' ? 'ticket.created' : 'ticket.changed', organizationId: ticket.organizationId, source: String(logId),
    data: { change: event.type, ticket: { id: ticket.id, title: ticket.title, status: ticket.status, priority: ticket.priority, assignedTo: ticket.assignedTo, deviceId: ticket.deviceId } },
  });
}

async function lockTicket(tx: SqlExecutor, organizationId: string, id: string): Promise<Ticket> {
  const ticket = await lockTicketRow(tx, organizationId, id);
  if (!ticket) throw notFound('Ticket');
  return ticket;
}

async function assertMember(tx: SqlExecutor, organizationId: string, userId: string) {
  if (!(await isMember(tx, organizationId, userId))) throw notFound('User');
}

export interface NewTicket { title: string; description?: string | undefined; priority: TicketPriority; assignedTo?: string | undefined; deviceId?: string | undefined }

/** `userId` is null when the product opens the ticket itself (an alert's action). */
export async function createTicket(db: RelationalStore, events: EventPublisher, organizationId: string, userId: string | null, input: NewTicket): Promise<Ticket> {
  return db.transaction(async (tx) => {
    if (input.assignedTo) await assertMember(tx, organizationId, input.assignedTo);
    if (input.deviceId && !(await isOrganizationDevice(tx, organizationId, input.deviceId))) throw notFound('Device');
    const ticket = await insertTicket(tx, {
      title: input.title, description: input.description ?? null, priority: input.priority, organizationId, assignedTo: input.assignedTo ?? null,
      createdBy: userId, deviceId: input.deviceId ?? null, slaHours: SLA_HOURS[input.priority],
    });
    await logEvent(tx, events, ticket, { type: 'created', technicianId: ticket.assignedTo });
    return ticket;
  });
}

export interface TicketChanges { title?: string | undefined; description?: string | null | undefined; priority?: TicketPriority | undefined; status?: Exclude<TicketStatus, 'closed'> | undefined }

/** Title, description, priority (the SLA due time follows it) and open states; closing has its own call. */
export async function updateTicket(db: RelationalStore, events: EventPublisher, organizationId: string, id: string, changes: TicketChanges): Promise<Ticket> {
  return db.transaction(async (tx) => {
    const current = await lockTicket(tx, organizationId, id);
    if (current.status === 'closed') throw new AppError('CONFLICT', 'The ticket is closed');
    const priority = changes.priority ?? current.priority;
    const ticket = await updateTicketRow(tx, organizationId, id, {
      title: changes.title ?? current.title, description: changes.description === undefined ? current.description : changes.description,
      priority, status: changes.status ?? current.status, slaHours: SLA_HOURS[priority],
    });
    await logEvent(tx, events, ticket, { type: 'updated', technicianId: ticket.assignedTo });
    return ticket;
  });
}

export async function assignTicket(db: RelationalStore, events: EventPublisher, organizationId: string, id: string, assignee: string | null): Promise<Ticket> {
  return db.transaction(async (tx) => {
    const current = await lockTicket(tx, organizationId, id);
    if (current.status === 'closed') throw new AppError('CONFLICT', 'The ticket is closed');
    if (assignee) await assertMember(tx, organizationId, assignee);
    const ticket = await setAssignee(tx, organizationId, id, assignee);
    await logEvent(tx, events, ticket, { type: 'assigned', technicianId: assignee });
    return ticket;
  });
}

export async function commentOnTicket(db: RelationalStore, events: EventPublisher, organizationId: string, id: string, authorId: string, body: string): Promise<TicketComment> {
  return db.transaction(async (tx) => {
    const ticket = await lockTicket(tx, organizationId, id);
    const comment = await insertComment(tx, id, authorId, body);
    await touchTicket(tx, id);
    await logEvent(tx, events, ticket, { type: 'commented', technicianId: authorId });
    return comment;
  });
}

/** Closes a ticket; the event carries the time it took (closed − created) and whether the SLA was breached. */
export async function closeTicket(db: RelationalStore, events: EventPublisher, organizationId: string, id: string, closedBy: string | null): Promise<Ticket> {
  return db.transaction(async (tx) => {
    const current = await lockTicket(tx, organizationId, id);
    if (current.status === 'closed') throw new AppError('CONFLICT', 'The ticket is already closed');
    const { durationSeconds, slaBreached, ...ticket } = await markClosed(tx, organizationId, id);
    await logEvent(tx, events, ticket, { type: 'closed', technicianId: ticket.assignedTo ?? closedBy, durationSeconds, slaBreached });
    return ticket;
  });
}

export interface TicketFilter { status?: TicketStatus | undefined; deviceId?: string | undefined; limit: number }

/** Newest first; `deviceId` narrows to one device's tickets (a device page); another organization's device is not found. */
export async function listTickets(db: SqlExecutor, organizationId: string, filter: TicketFilter): Promise<Ticket[]> {
  if (filter.deviceId && !(await isOrganizationDevice(db, organizationId, filter.deviceId))) throw notFound('Device');
  return selectTickets(db, organizationId, filter);
}

export async function getTicket(db: SqlExecutor, organizationId: string, id: string): Promise<Ticket & { comments: TicketComment[] }> {
  const ticket = await selectTicket(db, organizationId, id);
  if (!ticket) throw notFound('Ticket');
  return { ...ticket, comments: await selectComments(db, id) };
}
