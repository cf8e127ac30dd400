import { agentOutputSchema, agentResultSchema, agentShellOutputSchema, agentStartedSchema } from '@ninjait/shared';
import { agentProcedure } from '../../platform/trpc/trpc.ts';

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
  shellOutput: agentProcedure.input(agentShellOutputSchema)
    .mutation(({ ctx, input }) => ctx.services.shells.fromAgent(ctx.device.deviceId, input.sessionId, input.event)),
};
