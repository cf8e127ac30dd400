import { z } from 'zod';
import type { Services } from '../../app/services.ts';
import { OFFLINE_AFTER_INTERVALS } from '@ninjait/shared';
import { decommissionDevice, getDevice, listDevices, type Device } from '../../domain/devices.ts';
import { audit } from '../../audit/index.ts';
import { DEVICE_CONTROL_CHANNEL } from '../../app/device-control.ts';
import { invalidateDeviceLists } from '../../sinks/cache-sink.ts';
import { DEVICE_LIST_TTL_SEC, deviceListKey, latestKey } from '../../sinks/cache-sink.ts';
import { router, userProcedure } from '../trpc.ts';

/** Adds each device's latest values from the cache (one MGET for the whole list). */
export async function withLatest<D extends Device>(services: Services, devices: D[]) {
  const latest = await services.cache.mget(devices.map((device) => latestKey(device.id))).catch(() => devices.map(() => null));
  return devices.map((device, i) => ({ ...device, latest: latest[i] ? (JSON.parse(latest[i]) as Record<string, unknown>) : null }));
}

/**
 * The organization's devices from PostgreSQL, cached `api:devices:<orgId>` for DEVICE_LIST_TTL_SEC
 * (dropped on enrollment, inventory and offline changes). A cache that is down means a database read.
 */
export async function cachedDeviceList(services: Services, organizationId: string): Promise<Device[]> {
  const key = deviceListKey(organizationId);
  const cached = await services.cache.get(key).catch(() => null);
  if (cached) {
    services.metrics.cacheLookups.inc({ cache: 'api:devices', result: 'hit' });
    return (JSON.parse(cached) as Device[]).map((device) => ({
      ...device, lastSeen: device.lastSeen ? new Date(device.lastSeen) : null, createdAt: new Date(device.createdAt),
    }));
  }
  services.metrics.cacheLookups.inc({ cache: 'api:devices', result: 'miss' });
  const devices = await listDevices(services.db, organizationId);
  await services.cache.set(key, JSON.stringify(devices), DEVICE_LIST_TTL_SEC).catch(() => undefined);
  return devices;
}

/**
 * A cached row may predate the device's return: the latest sample (never cached here) says it is
 * online by the same rule the relational sink applies, so the list does not wait for the TTL.
 */
function freshStatus<D extends Device & { latest: Record<string, unknown> | null }>(device: D): D {
  const collectedAt = typeof device.latest?.collectedAt === 'string' ? new Date(device.latest.collectedAt) : null;
  if (!collectedAt || (device.lastSeen && device.lastSeen >= collectedAt)) return device;
  const recent = Date.now() - collectedAt.getTime() < OFFLINE_AFTER_INTERVALS * device.reportIntervalMs;
  const status = recent && (device.status === 'offline' || device.status === 'pending') ? 'online' : device.status;
  return { ...device, lastSeen: collectedAt, status };
}

export const devicesRouter = router({
  list: userProcedure('viewer').query(async ({ ctx }) =>
    (await withLatest(ctx.services, await cachedDeviceList(ctx.services, ctx.user.organizationId))).map(freshStatus)),
  get: userProcedure('viewer')
    .input(z.object({ id: z.uuid() }).strict())
    .query(async ({ ctx, input }) => {
      const [device] = await withLatest(ctx.services, [await getDevice(ctx.services.db, ctx.user.organizationId, input.id)]);
      return { ...device!, connected: ctx.services.agents.isConnected(input.id) };
    }),
  /** Retires a device: its secret stops working and its socket closes at once, on every instance. */
  decommission: userProcedure('admin')
    .input(z.object({ id: z.uuid() }).strict())
    .mutation(async ({ ctx, input }) => {
      const device = await decommissionDevice(ctx.services.db, ctx.user.organizationId, input.id);
      ctx.services.agents.disconnect(device.id, 'decommissioned');
      await ctx.services.cache.publish(DEVICE_CONTROL_CHANNEL, JSON.stringify({ deviceId: device.id, action: 'disconnect' }))
        .catch((err: unknown) => ctx.services.log.warn({ err, deviceId: device.id }, 'could not tell other instances to drop the device'));
      await invalidateDeviceLists(ctx.services.cache, [ctx.user.organizationId]).catch(() => undefined);
      await audit(ctx, { action: 'device.delete', resourceId: device.id, details: { name: device.name, reason: 'decommissioned' } });
      return device;
    }),
});
