import { z } from 'zod';
import {
  TICKET_PRIORITIES, TICKET_STATUSES, assignTicket, closeTicket, commentOnTicket, createTicket, getTicket, listTickets, updateTicket,
} from '../../domain/tickets.ts';
import { router, userProcedure } from '../trpc.ts';

const id = z.object({ id: z.uuid() }).strict();
const MAX_LIST = 500;

/** Tickets: everyone reads; technicians and up change them. Each change becomes a ticket_events row. */
export const ticketsRouter = router({
  list: userProcedure('viewer')
    .input(z.object({ status: z.enum(TICKET_STATUSES).optional(), limit: z.number().int().min(1).max(MAX_LIST).default(100) }).strict().default({ limit: 100 }))
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
    .mutation(({ ctx, input }) => createTicket(ctx.services.db, ctx.user.organizationId, ctx.user.userId, input)),
  update: userProcedure('technician')
    .input(z.object({
      id: z.uuid(),
      title: z.string().trim().min(1).max(500).optional(),
      description: z.string().max(20_000).nullable().optional(),
      priority: z.enum(TICKET_PRIORITIES).optional(),
      status: z.enum(['open', 'in_progress', 'waiting']).optional(),
    }).strict())
    .mutation(({ ctx, input: { id: ticketId, ...changes } }) => updateTicket(ctx.services.db, ctx.user.organizationId, ticketId, changes)),
  assign: userProcedure('technician')
    .input(z.object({ id: z.uuid(), assignedTo: z.uuid().nullable() }).strict())
    .mutation(({ ctx, input }) => assignTicket(ctx.services.db, ctx.user.organizationId, input.id, input.assignedTo)),
  comment: userProcedure('technician')
    .input(z.object({ id: z.uuid(), body: z.string().trim().min(1).max(20_000) }).strict())
    .mutation(({ ctx, input }) => commentOnTicket(ctx.services.db, ctx.user.organizationId, input.id, ctx.user.userId, input.body)),
  close: userProcedure('technician').input(id)
    .mutation(({ ctx, input }) => closeTicket(ctx.services.db, ctx.user.organizationId, input.id, ctx.user.userId)),
});
