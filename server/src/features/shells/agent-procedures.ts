import { agentShellOutputSchema } from '@ninjait/shared';
import { agentProcedure } from '../../platform/trpc/trpc.ts';
import type { ShellService } from './shell-service.ts';

/** What the agent's shell report uses, built in the composition root (app/). */
export interface ShellAgentDeps {
  shells: ShellService;
}

/** The agent's side of interactive shells, spread into the `agent` router: output and events of a shell, scoped to the authenticated device. */
export function createShellAgentProcedures(deps: ShellAgentDeps) {
  return {
    shellOutput: agentProcedure.input(agentShellOutputSchema)
      .mutation(({ ctx, input }) => deps.shells.fromAgent(ctx.device.deviceId, input.sessionId, input.event)),
  };
}
