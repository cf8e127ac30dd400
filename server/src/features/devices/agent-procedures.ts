import { agentProcedure } from '../../platform/trpc/trpc.ts';
import { rotateDeviceSecret } from './devices.ts';
import type { Logger } from '../../platform/obs/logger.ts';
import type { RelationalStore } from '../../stores/relational/index.ts';

/** What the device's own procedures use, built in the composition root (app/). */
export interface DeviceAgentDeps {
  db: RelationalStore;
  log: Logger;
}

/** The device's care of its own credential, spread into the `agent` router. */
export function createDeviceAgentProcedures(deps: DeviceAgentDeps) {
  return {
    /** Replaces this device's secret; the agent stores the new one before using it. */
    rotateSecret: agentProcedure.mutation(async ({ ctx }) => {
      const deviceSecret = await rotateDeviceSecret(deps.db, ctx.device.deviceId);
      deps.log.info({ deviceId: ctx.device.deviceId }, 'device secret rotated');
      return { deviceSecret };
    }),
  };
}
