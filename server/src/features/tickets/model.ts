/** What a ticket is: its states, priorities and SLA, shared by the service and the repository. */
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
