import { z } from 'zod';
import {
  TICKET_PRIORITIES, TICKET_STATUSES, assignTicket, closeTicket, commentOnTicket, createTicket, getTicket, listTickets, updateTicket,
} from './tickets.ts';
import { router, userProcedure } from '../../platform/trpc/trpc.ts';
import type { Audit } from '../audit/index.ts';
import type { RelationalStore } from '../../stores/relational/index.ts';
import type { EventPublisher } from '../events/index.ts';

const id = z.object({ id: z.uuid() }).strict();
const MAX_LIST = 500;

/** What these procedures use, built in the composition root (app/). */
export interface TicketsRouterDeps {
  audit: Audit;
  db: RelationalStore;
  events: EventPublisher;
}

/** Tickets: everyone reads; technicians and up change them. Each change becomes a ticket_events row. */
export function createTicketsRouter(deps: TicketsRouterDeps) {
  return router({
    list: userProcedure('viewer')
      .input(z.object({
        status: z.enum(TICKET_STATUSES).optional(),
        /** One device's tickets; another organization's device is not found. */
        deviceId: z.uuid().optional(),
        limit: z.number().int().min(1).max(MAX_LIST).default(100),
      }).strict().default({ limit: 100 }))
      .query(({ ctx, input }) => listTickets(deps.db, ctx.user.organizationId, input)),
    get: userProcedure('viewer').input(id).query(({ ctx, input }) => getTicket(deps.db, ctx.user.organizationId, input.id)),
    create: userProcedure('technician')
      .input(z.object({
        title: z.string().trim().min(1).max(500),
        description: z.string().max(20_000).optional(),
        priority: z.enum(TICKET_PRIORITIES).default('medium'),
        assignedTo: z.uuid().optional(),
        deviceId: z.uuid().optional(),
      }).strict())
      .mutation(async ({ ctx, input }) => {
        const ticket = await createTicket(deps.db, deps.events, ctx.user.organizationId, ctx.user.userId, input);
        await deps.audit(ctx, { action: 'ticket.create', resourceId: ticket.id, details: { title: ticket.title, priority: ticket.priority, deviceId: ticket.deviceId } });
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
        const ticket = await updateTicket(deps.db, deps.events, ctx.user.organizationId, ticketId, changes);
        await deps.audit(ctx, { action: 'ticket.update', resourceId: ticketId, details: { changed: Object.keys(changes), status: changes.status, priority: changes.priority } });
        return ticket;
      }),
    assign: userProcedure('technician')
      .input(z.object({ id: z.uuid(), assignedTo: z.uuid().nullable() }).strict())
      .mutation(async ({ ctx, input }) => {
        const ticket = await assignTicket(deps.db, deps.events, ctx.user.organizationId, input.id, input.assignedTo);
        await deps.audit(ctx, { action: 'ticket.assign', resourceId: input.id, details: { assignedTo: input.assignedTo } });
        return ticket;
      }),
    comment: userProcedure('technician')
      .input(z.object({ id: z.uuid(), body: z.string().trim().min(1).max(20_000) }).strict())
      .mutation(async ({ ctx, input }) => {
        const comment = await commentOnTicket(deps.db, deps.events, ctx.user.organizationId, input.id, ctx.user.userId, input.body);
        await deps.audit(ctx, { action: 'ticket.comment', resourceId: input.id });
        return comment;
      }),
    close: userProcedure('technician').input(id)
      .mutation(async ({ ctx, input }) => {
        const ticket = await closeTicket(deps.db, deps.events, ctx.user.organizationId, input.id, ctx.user.userId);
        await deps.audit(ctx, { action: 'ticket.close', resourceId: input.id });
        return ticket;
      }),
  });
}
