/** What other features use of tickets: opening and closing them (alerts link one to an alert). */
export { closeTicket, createTicket, type Ticket, type TicketPriority } from './tickets.ts';
