import type { RelationalStore, SqlExecutor } from '../../stores/relational/index.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import type { EventPublisher } from '../events/index.ts';

export const TICKET_PRIORITIES = ['urgent', 'high', 'medium', 'low'] as const;
export type TicketPriority = (typeof TICKET_PRIORITIES)[number];
export const TICKET_STATUSES = ['open', 'in_progress', 'waiting', 'closed'] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];

/** Hours from creation until a ticket of each priority breaches its SLA. */
export const SLA_HOURS: Record<TicketPriority, number> = { urgent: 4, high: 8, medium: 24, low: 72 };

export interface Ticket {
  id: string;
  title: string;
  description: string | null;
  status: TicketStatus;
  priority: TicketPriority;
  organizationId: string;
  assignedTo: string | null;
  createdBy: string | null;
  deviceId: string | null;
  /** The linked device's name (null when none, or when it is not the ticket's organization's). */
  deviceName?: string | null;
  createdAt: Date;
  updatedAt: Date;
  slaDueAt: Date;
  closedAt: Date | null;
}

export interface TicketComment { id: string; authorId: string | null; body: string; createdAt: Date }

const COLUMNS = `id, title, description, status, priority, organization_id AS "organizationId", assigned_to AS "assignedTo",
  created_by AS "createdBy", device_id AS "deviceId", created_at AS "createdAt", updated_at AS "updatedAt",
  sla_due_at AS "slaDueAt", closed_at AS "closedAt"`;
/** Reads add the linked device's name; a device of another organization is never named. */
const DEVICE_NAME = `(SELECT d.name FROM devices d WHERE d.id = tickets.device_id AND d.organization_id = tickets.organization_id) AS "deviceName"`;

type Event = { type: string; technicianId: string | null; durationSeconds?: number; slaBreached?: boolean };

/** Every change is logged in the same transaction; the ETL carries the log to ClickHouse's ticket_events. */
async function logEvent(tx: SqlExecutor, events: EventPublisher, ticket: Ticket, event: Event) {
  const { rows } = await tx.query<{ id: string }>(
    `INSERT INTO ticket_event_log (ticket_id, organization_id, event_type, technician_id, duration_seconds, sla_breached)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
    [ticket.id, ticket.organizationId, event.type, event.technicianId, event.durationSeconds ?? 0, event.slaBreached ?? false],
  );
  // Integrations hear of the change in the same transaction; the log row makes it one event.
  await events.publish(tx, {
    type: event.type === 'created' ? 'ticket.created' : 'ticket.changed', organizationId: ticket.organizationId, source: String(rows[0]!.id),
    data: { change: event.type, ticket: { id: ticket.id, title: ticket.title, status: ticket.status, priority: ticket.priority, assignedTo: ticket.assignedTo, deviceId: ticket.deviceId } },
  });
}

async function lockTicket(tx: SqlExecutor, organizationId: string, id: string): Promise<Ticket> {
  const { rows } = await tx.query<Ticket>(`SELECT ${COLUMNS} FROM tickets WHERE id = $1 AND organization_id = $2 FOR UPDATE`, [id, organizationId]);
  if (!rows[0]) throw notFound('Ticket');
  return rows[0];
}

async function assertMember(tx: SqlExecutor, organizationId: string, userId: string) {
  const { rowCount } = await tx.query('SELECT 1 FROM users WHERE id = $1 AND organization_id = $2 AND removed_at IS NULL', [userId, organizationId]);
  if (rowCount === 0) throw notFound('User');
}

export interface NewTicket { title: string; description?: string | undefined; priority: TicketPriority; assignedTo?: string | undefined; deviceId?: string | undefined }

/** `userId` is null when the product opens the ticket itself (an alert's action). */
export async function createTicket(db: RelationalStore, events: EventPublisher, organizationId: string, userId: string | null, input: NewTicket): Promise<Ticket> {
  return db.transaction(async (tx) => {
    if (input.assignedTo) await assertMember(tx, organizationId, input.assignedTo);
    if (input.deviceId) {
      const { rowCount } = await tx.query('SELECT 1 FROM devices WHERE id = $1 AND organization_id = $2', [input.deviceId, organizationId]);
      if (rowCount === 0) throw notFound('Device');
    }
    const { rows } = await tx.query<Ticket>(
      `INSERT INTO tickets (title, description, status, priority, organization_id, assigned_to, created_by, device_id, sla_due_at)
       VALUES ($1, $2, 'open', $3, $4, $5, $6, $7, NOW() + make_interval(hours => $8)) RETURNING ${COLUMNS}`,
      [input.title, input.description ?? null, input.priority, organizationId, input.assignedTo ?? null, userId, input.deviceId ?? null, SLA_HOURS[input.priority]],
    );
    const ticket = rows[0]!;
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
    const { rows } = await tx.query<Ticket>(
      `UPDATE tickets SET title = $3, description = $4, priority = $5, status = $6, updated_at = NOW(),
         sla_due_at = created_at + make_interval(hours => $7)
       WHERE id = $1 AND organization_id = $2 RETURNING ${COLUMNS}`,
      [id, organizationId, changes.title ?? current.title, changes.description === undefined ? current.description : changes.description,
        priority, changes.status ?? current.status, SLA_HOURS[priority]],
    );
    const ticket = rows[0]!;
    await logEvent(tx, events, ticket, { type: 'updated', technicianId: ticket.assignedTo });
    return ticket;
  });
}

export async function assignTicket(db: RelationalStore, events: EventPublisher, organizationId: string, id: string, assignee: string | null): Promise<Ticket> {
  return db.transaction(async (tx) => {
    const current = await lockTicket(tx, organizationId, id);
    if (current.status === 'closed') throw new AppError('CONFLICT', 'The ticket is closed');
    if (assignee) await assertMember(tx, organizationId, assignee);
    const { rows } = await tx.query<Ticket>(
      `UPDATE tickets SET assigned_to = $3, updated_at = NOW() WHERE id = $1 AND organization_id = $2 RETURNING ${COLUMNS}`,
      [id, organizationId, assignee],
    );
    const ticket = rows[0]!;
    await logEvent(tx, events, ticket, { type: 'assigned', technicianId: assignee });
    return ticket;
  });
}

export async function commentOnTicket(db: RelationalStore, events: EventPublisher, organizationId: string, id: string, authorId: string, body: string): Promise<TicketComment> {
  return db.transaction(async (tx) => {
    const ticket = await lockTicket(tx, organizationId, id);
    const { rows } = await tx.query<TicketComment>(
      `INSERT INTO ticket_comments (ticket_id, author_id, body) VALUES ($1, $2, $3)
       RETURNING id, author_id AS "authorId", body, created_at AS "createdAt"`,
      [id, authorId, body],
    );
    await tx.query('UPDATE tickets SET updated_at = NOW() WHERE id = $1', [id]);
    await logEvent(tx, events, ticket, { type: 'commented', technicianId: authorId });
    return rows[0]!;
  });
}

/** Closes a ticket; the event carries the time it took (closed − created) and whether the SLA was breached. */
export async function closeTicket(db: RelationalStore, events: EventPublisher, organizationId: string, id: string, closedBy: string | null): Promise<Ticket> {
  return db.transaction(async (tx) => {
    const current = await lockTicket(tx, organizationId, id);
    if (current.status === 'closed') throw new AppError('CONFLICT', 'The ticket is already closed');
    const { rows } = await tx.query<Ticket & { durationSeconds: number; slaBreached: boolean }>(
      `UPDATE tickets SET status = 'closed', closed_at = NOW(), updated_at = NOW() WHERE id = $1 AND organization_id = $2
       RETURNING ${COLUMNS}, GREATEST(0, floor(extract(epoch FROM closed_at - created_at)))::int AS "durationSeconds",
         (closed_at > sla_due_at) AS "slaBreached"`,
      [id, organizationId],
    );
    const { durationSeconds, slaBreached, ...ticket } = rows[0]!;
    await logEvent(tx, events, ticket, { type: 'closed', technicianId: ticket.assignedTo ?? closedBy, durationSeconds, slaBreached });
    return ticket;
  });
}

export interface TicketFilter { status?: TicketStatus | undefined; deviceId?: string | undefined; limit: number }

/** Newest first; `deviceId` narrows to one device's tickets (a device page); another organization's device is not found. */
export async function listTickets(db: SqlExecutor, organizationId: string, filter: TicketFilter): Promise<Ticket[]> {
  if (filter.deviceId) {
    const { rowCount } = await db.query('SELECT 1 FROM devices WHERE id = $1 AND organization_id = $2', [filter.deviceId, organizationId]);
    if (rowCount === 0) throw notFound('Device');
  }
  const { rows } = await db.query<Ticket>(
    `SELECT ${COLUMNS}, ${DEVICE_NAME} FROM tickets WHERE organization_id = $1 AND ($2::text IS NULL OR status = $2)
       AND ($3::uuid IS NULL OR device_id = $3)
     ORDER BY created_at DESC, id LIMIT $4`,
    [organizationId, filter.status ?? null, filter.deviceId ?? null, filter.limit],
  );
  return rows;
}

export async function getTicket(db: SqlExecutor, organizationId: string, id: string): Promise<Ticket & { comments: TicketComment[] }> {
  const { rows } = await db.query<Ticket>(`SELECT ${COLUMNS}, ${DEVICE_NAME} FROM tickets WHERE id = $1 AND organization_id = $2`, [id, organizationId]);
  if (!rows[0]) throw notFound('Ticket');
  const comments = await db.query<TicketComment>(
    `SELECT id, author_id AS "authorId", body, created_at AS "createdAt" FROM ticket_comments WHERE ticket_id = $1 ORDER BY created_at, id`,
    [id],
  );
  return { ...rows[0], comments: comments.rows };
}
