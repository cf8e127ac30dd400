import { z } from 'zod';
import { agentProcedure } from '../../platform/trpc/trpc.ts';

/**
 * The device's answer to a remote-access request, spread into the `agent` router. The result's
 * shape is checked against what was asked (see DeviceRpc.fromAgent); here only its envelope.
 */
export const remoteAgentProcedures = {
  remoteResult: agentProcedure
    .input(z.discriminatedUnion('ok', [
      z.object({ requestId: z.uuid(), ok: z.literal(true), result: z.unknown() }).strict(),
      z.object({ requestId: z.uuid(), ok: z.literal(false), error: z.unknown() }).strict(),
    ]))
    .mutation(({ ctx, input }) => ctx.services.remoteRpc.fromAgent(ctx.device.deviceId, input)),
};
