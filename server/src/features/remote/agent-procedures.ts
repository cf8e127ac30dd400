import { z } from 'zod';
import { agentProcedure } from '../../platform/trpc/trpc.ts';
import type { DeviceRpc } from './device-rpc.ts';

/** What these procedures use, built in the composition root (app/). */
export interface RemoteAgentDeps {
  remoteRpc: DeviceRpc;
}

/**
 * The device's answer to a remote-access request, spread into the `agent` router. The result's
 * shape is checked against what was asked (see DeviceRpc.fromAgent); here only its envelope.
 */
export function createRemoteAgentProcedures(deps: RemoteAgentDeps) {
  return {
    remoteResult: agentProcedure
      .input(z.discriminatedUnion('ok', [
        z.object({ requestId: z.uuid(), ok: z.literal(true), result: z.unknown() }).strict(),
        z.object({ requestId: z.uuid(), ok: z.literal(false), error: z.unknown() }).strict(),
      ]))
      .mutation(({ ctx, input }) => deps.remoteRpc.fromAgent(ctx.device.deviceId, input)),
  };
}
