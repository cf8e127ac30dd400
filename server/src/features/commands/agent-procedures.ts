import { agentOutputSchema, agentResultSchema, agentStartedSchema } from '@ninjait/shared';
import { agentProcedure } from '../../platform/trpc/trpc.ts';
import type { CommandService } from './service.ts';

/** What these procedures use, built in the composition root (app/). */
export interface CommandAgentDeps {
  commands: CommandService;
}

/**
 * The agent's side of remote commands, spread into the `agent` router: one subscription that
 * carries commands, cancels and shell input to the device, and the mutations it reports with.
 * Every mutation is scoped to the authenticated device.
 */
export function createCommandAgentProcedures(deps: CommandAgentDeps) {
  return {
    commands: agentProcedure.subscription(async function* ({ ctx, signal }) {
      yield* deps.commands.agent.stream(ctx.device.deviceId, signal);
    }),
    commandStarted: agentProcedure.input(agentStartedSchema)
      .mutation(({ ctx, input }) => deps.commands.agent.started(ctx.device.deviceId, input.commandId)),
    commandOutput: agentProcedure.input(agentOutputSchema)
      .mutation(({ ctx, input }) => deps.commands.agent.output(ctx.device.deviceId, input.commandId, input.chunks)),
    commandResult: agentProcedure.input(agentResultSchema)
      .mutation(({ ctx, input }) => deps.commands.agent.result(ctx.device.deviceId, input.commandId, input)),
  };
}
