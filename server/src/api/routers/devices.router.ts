import { z } from 'zod';
import type { Services } from '../../app/services.ts';
import { getDevice, listDevices, type Device } from '../../domain/devices.ts';
import { latestKey } from '../../sinks/cache-sink.ts';
import { router, userProcedure } from '../trpc.ts';

/** Adds each device's latest values from the cache (one MGET for the whole list). */
export async function withLatest<D extends Device>(services: Services, devices: D[]) {
  const latest = await services.cache.mget(devices.map((device) => latestKey(device.id))).catch(() => devices.map(() => null));
  return devices.map((device, i) => ({ ...device, latest: latest[i] ? (JSON.parse(latest[i]) as Record<string, unknown>) : null }));
}

export const devicesRouter = router({
  list: userProcedure('viewer').query(async ({ ctx }) =>
    withLatest(ctx.services, await listDevices(ctx.services.db, ctx.user.organizationId))),
  get: userProcedure('viewer')
    .input(z.object({ id: z.uuid() }).strict())
    .query(async ({ ctx, input }) => {
      const [device] = await withLatest(ctx.services, [await getDevice(ctx.services.db, ctx.user.organizationId, input.id)]);
      return { ...device!, connected: ctx.services.agents.isConnected(input.id) };
    }),
});
