import { z } from 'zod';
import type { Context } from '../context.ts';
import type { SessionUser } from '../../auth/sessions.ts';
import type { Requester } from '../../commands/requests.ts';
import { SHELLS } from '../../commands/types.ts';
import { router, userProcedure } from '../trpc.ts';

/** Stdin per call; a paste larger than this is sent in pieces. */
const MAX_INPUT_CHARS = 16 * 1024;
const sessionInput = z.object({ sessionId: z.uuid() }).strict();

const personOf = (ctx: Context & { user: SessionUser }): Requester => ({
  userId: ctx.user.userId, label: ctx.user.email, organizationId: ctx.user.organizationId, ip: ctx.ip,
});

/**
 * Interactive shells for technicians: open, type (mutation), watch (subscription), close.
 * The agent runs a piped shell (no pty: no line editing or full-screen programs, no resize).
 */
export const shellRouter = router({
  open: userProcedure('technician')
    .input(z.object({
      deviceId: z.uuid(),
      shell: z.enum(SHELLS).optional(),
      idleTimeoutSec: z.number().int().min(5).max(4 * 60 * 60).optional(),
    }).strict())
    .mutation(({ ctx, input }) => ctx.services.shells.open(personOf(ctx), input)),
  input: userProcedure('technician')
    .input(sessionInput.extend({ data: z.string().min(1).max(MAX_INPUT_CHARS) }).strict())
    .mutation(({ ctx, input }) => ctx.services.shells.input(personOf(ctx), input.sessionId, input.data)),
  close: userProcedure('technician').input(sessionInput)
    .mutation(({ ctx, input }) => ctx.services.shells.close(personOf(ctx), input.sessionId)),
  output: userProcedure('technician').input(sessionInput).subscription(async function* ({ ctx, input, signal }) {
    yield* ctx.services.shells.output(personOf(ctx), input.sessionId, signal);
  }),
});
