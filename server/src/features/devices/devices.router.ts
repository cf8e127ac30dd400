import { z } from 'zod';
import { deviceListInputSchema } from '@ninjait/shared';
import { decommissionDevice, getDevice } from './devices.ts';
import { withLatest } from './latest.ts';
import { approveDevice, listPendingDevices, rejectDevice, replaceDevice } from '../enrollment/index.ts';
import { deviceAddress, listDevicePage, type DeviceRow } from './device-list.ts';
import { getCredentialRefusal } from './credential-refusals.ts';
import { groupDevices, summarizeGroups, totalFromGroups, type DeviceGroup } from './device-counts.ts';
import { AppError } from '../../platform/errors.ts';
import { cutOffDevice } from './device-control.ts';
import { cpuLeaderboardKey, DEVICE_LIST_TTL_SEC, deviceListKey, invalidateDeviceLists, latestKey } from '../../stores/cache/keys.ts';
import type { CacheStore } from '../../stores/cache/index.ts';
import type { Logger } from '../../platform/obs/logger.ts';
import type { Metrics } from '../../platform/obs/metrics.ts';
import type { Sessions } from '../auth/index.ts';
import { summarize } from './live-summary.ts';
import { namesOf } from './repository.ts';
import { hasFleetFilter } from '../fleet/index.ts';
import { router, userProcedure } from '../../platform/trpc/trpc.ts';
import type { Audit } from '../audit/index.ts';
import type { RelationalStore } from '../../stores/relational/index.ts';
import type { EventPublisher } from '../events/index.ts';
import type { AgentConnections } from './agent-connections.ts';

const TOP_CPU_SIZE = 10;
const idInput = z.object({ id: z.uuid() }).strict();
/** Ranked entries read for the top ten: offline and retired devices keep their last score there. */
const TOP_CPU_CANDIDATES = 50;

/**
 * The organization's devices grouped by status and OS, cached `api:devices:<orgId>` for
 * DEVICE_LIST_TTL_SEC (dropped on enrollment, inventory, offline and decommission): every poll of
 * the overview and every page of the table needs a count, and counting scans the whole fleet.
 */
async function cachedDeviceGroups(services: DevicesRouterDeps, organizationId: string): Promise<DeviceGroup[]> {
  const key = deviceListKey(organizationId);
  const cached = await services.cache.get(key).catch(() => null);
  services.metrics.cacheLookups.inc({ cache: 'api:devices', result: cached ? 'hit' : 'miss' });
  if (cached) return JSON.parse(cached) as DeviceGroup[];
  const groups = await groupDevices(services.db, organizationId);
  await services.cache.set(key, JSON.stringify(groups), DEVICE_LIST_TTL_SEC).catch(() => undefined);
  return groups;
}

/** Adds the few numbers a table row shows from each device's latest sample; a cache that is down leaves them null. */
async function withSummaries<R extends DeviceRow>(services: DevicesRouterDeps, rows: R[]) {
  if (rows.length === 0) return [];
  const latest = await services.cache.mget(rows.map((row) => latestKey(row.id))).catch(() => rows.map(() => null));
  return rows.map((row, i) => {
    const raw = latest[i];
    return { ...row, summary: summarize(raw ? (JSON.parse(raw) as Parameters<typeof summarize>[0]) : null) };
  });
}

/** The counts changed: the next read counts again instead of waiting for the cache entry to expire. */
const dropCachedCounts = (services: DevicesRouterDeps, organizationId: string) =>
  invalidateDeviceLists(services.cache, [organizationId]).catch(() => undefined);

/** What these procedures use, built in the composition root (app/). */
export interface DevicesRouterDeps {
  agents: AgentConnections;
  audit: Audit;
  cache: CacheStore;
  db: RelationalStore;
  events: EventPublisher;
  log: Logger;
  metrics: Pick<Metrics, 'cacheLookups'>;
  /** A retired device's open streams end with its sessions. */
  sessions: Pick<Sessions, 'revokeDevice'>;
}

export function createDevicesRouter(deps: DevicesRouterDeps) {
  return router({
    /**
     * One page of the fleet table, filtered and sorted in PostgreSQL, latest values from the cache.
     * `total` comes from the cached counts unless a search, id or structure filter needs its own count.
     */
    list: userProcedure('viewer')
      .input(deviceListInputSchema.prefault({}))
      .query(async ({ ctx, input }) => {
        const organizationId = ctx.user.organizationId;
        const total = input.search || input.deviceIds || hasFleetFilter(input) ? undefined : totalFromGroups(await cachedDeviceGroups(deps, organizationId), input);
        const page = await listDevicePage(deps.db, organizationId, input, total);
        return { ...page, items: await withSummaries(deps, page.items) };
      }),
    /** Devices per status and the OS types present: the overview's counts and the table's filter choices. */
    counts: userProcedure('viewer').query(async ({ ctx }) => summarizeGroups(await cachedDeviceGroups(deps, ctx.user.organizationId))),
    /** The online devices with the highest CPU load in their latest sample, highest first. */
    topCpu: userProcedure('viewer').query(async ({ ctx }) => {
      const { cache, db } = deps;
      const ranked = await cache.zrevrange(cpuLeaderboardKey(ctx.user.organizationId), 0, TOP_CPU_CANDIDATES - 1).catch((error: unknown) => {
        throw new AppError('SERVICE_UNAVAILABLE', 'The cache did not answer', { cause: error });
      });
      if (ranked.length === 0) return [];
      const rows = await namesOf(db, ctx.user.organizationId, ranked.map((entry) => entry.member), true);
      const names = new Map(rows.map((row) => [row.id, row.name]));
      return ranked
        .filter((entry) => names.has(entry.member))
        .slice(0, TOP_CPU_SIZE)
        .map((entry) => ({ deviceId: entry.member, name: names.get(entry.member)!, cpuPercent: entry.score }));
    }),
    /** One device; its inventory never carries the machine key (half of a takeover), only a fingerprint of it. */
    get: userProcedure('viewer')
      .input(idInput)
      .query(async ({ ctx, input }) => {
        const [device] = await withLatest(deps, [await getDevice(deps.db, ctx.user.organizationId, input.id)]);
        const credentialsRefused = await getCredentialRefusal(deps.db, ctx.user.organizationId, input.id);
        return {
          ...device!, ...deviceAddress(device!.inventory?.primaryAddress, device!.ipAddress), credentialsRefused,
          connected: deps.agents.isConnected(input.id),
        };
      }),
    /** Retires a device: its secret stops working and its socket closes at once, on every instance. */
    decommission: userProcedure('admin')
      .input(idInput)
      .mutation(async ({ ctx, input }) => {
        const device = await decommissionDevice(deps.db, deps.events, ctx.user.organizationId, input.id);
        await cutOffDevice(deps, device.id);
        await dropCachedCounts(deps, ctx.user.organizationId);
        await deps.audit(ctx, { action: 'device.delete', resourceId: device.id, details: { name: device.name, reason: 'decommissioned' } });
        return device;
      }),
    /** Devices waiting for an admin's decision, and whom each claims to be: the console's "waiting for approval" list. */
    pending: userProcedure('viewer').query(({ ctx }) => listPendingDevices(deps.db, ctx.user.organizationId)),
    /** A device waiting for approval becomes a device of its own (e.g. a cloned machine sharing the key); commands may reach it. */
    approve: userProcedure('admin')
      .input(idInput)
      .mutation(async ({ ctx, input }) => {
        const device = await approveDevice(deps.db, ctx.user.organizationId, input.id);
        await dropCachedCounts(deps, ctx.user.organizationId);
        await deps.audit(ctx, { action: 'device.approved', resourceId: device.id, details: { name: device.name } });
        return device;
      }),
    /**
     * A device waiting for approval takes the place of the device it claims (a reinstalled machine):
     * the claimed one is decommissioned and cut off, the pending one gets its name and a link to it.
     */
    replace: userProcedure('admin')
      .input(idInput)
      .mutation(async ({ ctx, input }) => {
        const { device, replaced, replacedId } = await replaceDevice(deps.db, deps.events, ctx.user.organizationId, input.id);
        if (replaced) await cutOffDevice(deps, replaced.id, 'replaced');
        await dropCachedCounts(deps, ctx.user.organizationId);
        await deps.audit(ctx, { action: 'device.replaced', resourceId: device.id, details: { name: device.name, replacedDeviceId: replacedId } });
        return device;
      }),
    /** A device waiting for approval is decommissioned and cut off: its secret stops working at once. */
    reject: userProcedure('admin')
      .input(idInput)
      .mutation(async ({ ctx, input }) => {
        const device = await rejectDevice(deps.db, deps.events, ctx.user.organizationId, input.id);
        await cutOffDevice(deps, device.id, 'rejected');
        await dropCachedCounts(deps, ctx.user.organizationId);
        await deps.audit(ctx, { action: 'device.rejected', resourceId: device.id, details: { name: device.name } });
        return device;
      }),
  });
}
