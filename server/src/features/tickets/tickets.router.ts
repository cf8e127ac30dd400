import { z } from 'zod';
import {
  TICKET_PRIORITIES, TICKET_STATUSES, assignTicket, closeTicket, commentOnTicket, createTicket, getTicket, listTickets, updateTicket,
} from './tickets.ts';
import { router, userProcedure } from '../../platform/trpc/trpc.ts';
import { audit } from '../audit/index.ts';

const id = z.object({ id: z.uuid() }).strict();
const MAX_LIST = 500;

/** Tickets: everyone reads; technicians and up change them. Each change becomes a ticket_events row. */
export const ticketsRouter = router({
  list: userProcedure('viewer')
    .input(z.object({
      status: z.enum(TICKET_STATUSES).optional(),
      /** One device's tickets; another organization's device is not found. */
      deviceId: z.uuid().optional(),
      limit: z.number().int().min(1).max(MAX_LIST).default(100),
    }).strict().default({ limit: 100 }))
    .query(({ ctx, input }) => listTickets(ctx.services.db, ctx.user.organizationId, input)),
  get: userProcedure('viewer').input(id).query(({ ctx, input }) => getTicket(ctx.services.db, ctx.user.organizationId, input.id)),
  create: userProcedure('technician')
    .input(z.object({
      title: z.string().trim().min(1).max(500),
      description: z.string().max(20_000).optional(),
      priority: z.enum(TICKET_PRIORITIES).default('medium'),
      assignedTo: z.uuid().optional(),
      deviceId: z.uuid().optional(),
    }).strict())
    .mutation(async ({ ctx, input }) => {
      const ticket = await createTicket(ctx.services.db, ctx.services.events, ctx.user.organizationId, ctx.user.userId, input);
      await audit(ctx, { action: 'ticket.create', resourceId: ticket.id, details: { title: ticket.title, priority: ticket.priority, deviceId: ticket.deviceId } });
      return ticket;
    }),
  update: userProcedure('technician')
    .input(z.object({
      id: z.uuid(),
      title: z.string().trim().min(1).max(500).optional(),
      description: z.string().max(20_000).nullable().optional(),
      priority: z.enum(TICKET_PRIORITIES).optional(),
      status: z.enum(['open', 'in_progress', 'waiting']).optional(),
    }).strict())
    .mutation(async ({ ctx, input: { id: ticketId, ...changes } }) => {
      const ticket = await updateTicket(ctx.services.db, ctx.services.events, ctx.user.organizationId, ticketId, changes);
      await audit(ctx, { action: 'ticket.update', resourceId: ticketId, details: { changed: Object.keys(changes), status: changes.status, priority: changes.priority } });
      return ticket;
    }),
  assign: userProcedure('technician')
    .input(z.object({ id: z.uuid(), assignedTo: z.uuid().nullable() }).strict())
    .mutation(async ({ ctx, input }) => {
      const ticket = await assignTicket(ctx.services.db, ctx.services.events, ctx.user.organizationId, input.id, input.assignedTo);
      await audit(ctx, { action: 'ticket.assign', resourceId: input.id, details: { assignedTo: input.assignedTo } });
      return ticket;
    }),
  comment: userProcedure('technician')
    .input(z.object({ id: z.uuid(), body: z.string().trim().min(1).max(20_000) }).strict())
    .mutation(async ({ ctx, input }) => {
      const comment = await commentOnTicket(ctx.services.db, ctx.services.events, ctx.user.organizationId, input.id, ctx.user.userId, input.body);
      await audit(ctx, { action: 'ticket.comment', resourceId: input.id });
      return comment;
    }),
  close: userProcedure('technician').input(id)
    .mutation(async ({ ctx, input }) => {
      const ticket = await closeTicket(ctx.services.db, ctx.services.events, ctx.user.organizationId, input.id, ctx.user.userId);
      await audit(ctx, { action: 'ticket.close', resourceId: input.id });
      return ticket;
    }),
});
