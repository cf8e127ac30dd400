import type { RelationalStore } from '../../stores/relational/index.ts';
import type { Logger } from '../../platform/obs/logger.ts';
import { AppError } from '../../platform/errors.ts';
import { closeTicket, createTicket, type TicketPriority } from '../tickets/index.ts';
import type { Severity } from './conditions.ts';
import type { EventPublisher } from '../events/index.ts';
import { alertsNeedingTickets, linkTicket, markTicketClosed, ticketsToClose } from './alerts-repository.ts';

const PRIORITY: Record<Severity, TicketPriority> = { critical: 'high', warning: 'medium', info: 'low' };
const BATCH = 100;

/**
 * The ticket action, on the scheduler under a lease: opens a ticket (priority from severity, so
 * the SLA follows) for each active alert whose rule asks for one, and closes it when the alert
 * resolves if the rule says so. Run after the transition commits, so an outage of this step
 * only delays tickets; a crash between creating and linking a ticket can leave one extra
 * ticket, never a missing one.
 */
export async function runTicketActions(db: RelationalStore, events: EventPublisher, log: Logger): Promise<void> {
  for (const alert of await alertsNeedingTickets(db, BATCH)) {
    const ticket = await createTicket(db, events, alert.organizationId, null, {
      title: `Alert: ${alert.title}`.slice(0, 500),
      description: `Opened automatically by alert ${alert.id}.`,
      priority: PRIORITY[alert.severity], deviceId: alert.deviceId,
    });
    if (!(await linkTicket(db, alert.id, ticket.id))) await closeTicket(db, events, alert.organizationId, ticket.id, null);
  }
  for (const alert of await ticketsToClose(db, BATCH)) {
    try {
      await closeTicket(db, events, alert.organizationId, alert.ticketId, null);
    } catch (error) {
      // Closed by a person already, or deleted: nothing left to do.
      if (!(error instanceof AppError) || (error.code !== 'CONFLICT' && error.code !== 'NOT_FOUND')) throw error;
      log.debug({ alertId: alert.id, ticketId: alert.ticketId }, 'ticket of a resolved alert was already closed');
    }
    await markTicketClosed(db, alert.id);
  }
}
