import { z } from 'zod';
import { inventoryReportSchema, patchResultSchema, MAX_PATCHES_PER_DEPLOYMENT } from '@ninjait/shared';
import { agentProcedure } from '../../platform/trpc/trpc.ts';
import type { PatchingService } from './service.ts';

const deploymentInput = z.object({ deploymentId: z.uuid() }).strict();

/** What these procedures use, built in the composition root (app/). */
export interface PatchingAgentDeps {
  patching: PatchingService;
}

/**
 * The agent's side of inventory and patching, spread into the `agent` router; every call is
 * scoped to the authenticated device.
 */
export function createPatchingAgentProcedures(deps: PatchingAgentDeps) {
  return {
    /** Software, services and pending updates: all of them, or the changes since the snapshot the server acked. */
    inventoryReport: agentProcedure.input(inventoryReportSchema)
      .mutation(({ ctx, input }) => deps.patching.report(ctx.device, input)),
    /** Deployments offered to this device now. */
    patchWork: agentProcedure.query(({ ctx }) => deps.patching.agent.work(ctx.device.deviceId)),
    patchStarted: agentProcedure.input(deploymentInput)
      .mutation(({ ctx, input }) => deps.patching.agent.started(ctx.device.deviceId, input.deploymentId)),
    patchProgress: agentProcedure.input(deploymentInput.extend({ lines: z.array(z.string().max(500)).min(1).max(50) }).strict())
      .mutation(({ ctx, input }) => deps.patching.agent.progress(ctx.device.deviceId, input.deploymentId, input.lines)),
    patchResult: agentProcedure.input(deploymentInput.extend({ results: z.array(patchResultSchema).min(1).max(MAX_PATCHES_PER_DEPLOYMENT) }).strict())
      .mutation(({ ctx, input }) => deps.patching.agent.result(ctx.device.deviceId, input.deploymentId, input.results)),
  };
}
