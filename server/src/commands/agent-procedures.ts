import { z } from 'zod';
import { agentProcedure } from '../api/trpc.ts';
import { agentOutputSchema, agentResultSchema, agentStartedSchema } from './schemas.ts';
import { MAX_CHUNK_BYTES } from './limits.ts';

const shellEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('opened'), sessionId: z.uuid() }).strict(),
  z.object({ type: z.literal('output'), seq: z.number().int().min(0), stream: z.enum(['stdout', 'stderr']), data: z.string().max(MAX_CHUNK_BYTES) }).strict(),
  z.object({ type: z.literal('closed'), reason: z.string().max(500), exitCode: z.number().int().nullable() }).strict(),
]);

/**
 * The agent's side of remote commands, spread into the `agent` router: one subscription that
 * carries commands, cancels and shell input to the device, and the mutations it reports with.
 * Every mutation is scoped to the authenticated device.
 */
export const commandAgentProcedures = {
  commands: agentProcedure.subscription(async function* ({ ctx, signal }) {
    yield* ctx.services.commands.agent.stream(ctx.device.deviceId, signal);
  }),
  commandStarted: agentProcedure.input(agentStartedSchema)
    .mutation(({ ctx, input }) => ctx.services.commands.agent.started(ctx.device.deviceId, input.commandId)),
  commandOutput: agentProcedure.input(agentOutputSchema)
    .mutation(({ ctx, input }) => ctx.services.commands.agent.output(ctx.device.deviceId, input.commandId, input.chunks)),
  commandResult: agentProcedure.input(agentResultSchema)
    .mutation(({ ctx, input }) => ctx.services.commands.agent.result(ctx.device.deviceId, input.commandId, input)),
  shellOutput: agentProcedure.input(z.object({ sessionId: z.uuid(), event: shellEventSchema }).strict())
    .mutation(({ ctx, input }) => ctx.services.shells.fromAgent(ctx.device.deviceId, input.sessionId, input.event)),
};
