import { z } from 'zod';
import { getDevice } from './devices.ts';
import { namesOf } from './repository.ts';
import { AppError } from '../../platform/errors.ts';
import { latestKey, uptimeLeaderboardKey } from '../../stores/cache/keys.ts';
import { SERIES_RANGES, type SeriesRange, type TimeSeriesStore } from '../../stores/timeseries/index.ts';
import { router, userProcedure } from '../../platform/trpc/trpc.ts';
import type { CacheStore } from '../../stores/cache/index.ts';
import type { RelationalStore } from '../../stores/relational/index.ts';
import type { AgentConnections } from './agent-connections.ts';
import type { Metrics } from '../../platform/obs/metrics.ts';

const LEADERBOARD_SIZE = 10;
const deviceInput = z.object({ deviceId: z.uuid() }).strict();

/** A device's window means; the device must belong to the caller's organization (else NOT_FOUND). */
async function series(services: MetricsRouterDeps, organizationId: string, deviceId: string, range: SeriesRange) {
  try {
    return await services.timeseries.querySeries(deviceId, organizationId, range);
  } catch (error) {
    throw new AppError('SERVICE_UNAVAILABLE', `The time-series store (${services.timeseries.engine}) did not answer`, { cause: error });
  }
}

async function latest(services: MetricsRouterDeps, deviceId: string): Promise<Record<string, unknown> | null> {
  const raw = await services.cache.get(latestKey(deviceId)).catch(() => null);
  services.metrics.cacheLookups.inc({ cache: 'device:latest', result: raw ? 'hit' : 'miss' });
  return raw ? (JSON.parse(raw) as Record<string, unknown>) : null;
}

/** What these procedures use, built in the composition root (app/). */
export interface MetricsRouterDeps {
  agents: AgentConnections;
  cache: CacheStore;
  db: RelationalStore;
  metrics: Pick<Metrics, 'cacheLookups'>;
  timeseries: TimeSeriesStore;
}

export function createMetricsRouter(deps: MetricsRouterDeps) {
  return router({
    /** The dashboard series: InfluxDB's Flux query, or the same means in SQL on the embedded raw table. */
    series: userProcedure('viewer')
      .input(deviceInput.extend({ range: z.enum(SERIES_RANGES).default('1h') }).strict())
      .query(async ({ ctx, input }) => {
        await getDevice(deps.db, ctx.user.organizationId, input.deviceId);
        return { engine: deps.timeseries.engine, range: input.range, points: await series(deps, ctx.user.organizationId, input.deviceId, input.range) };
      }),

    /**
     * One call for a device page: metadata (PostgreSQL), latest values (cache) and history (time
     * series). A store that is down leaves its part null with the reason, the rest still answers.
     */
    deviceDashboard: userProcedure('viewer')
      .input(deviceInput.extend({ range: z.enum(SERIES_RANGES).default('24h') }).strict())
      .query(async ({ ctx, input }) => {
        const device = await getDevice(deps.db, ctx.user.organizationId, input.deviceId);
        const [current, history] = await Promise.all([
          latest(deps, input.deviceId),
          series(deps, ctx.user.organizationId, input.deviceId, input.range).then(
            (points) => ({ points, error: null }),
            (error: AppError) => ({ points: null, error: error.message }),
          ),
        ]);
        return {
          device: { ...device, connected: deps.agents.isConnected(input.deviceId) },
          latest: current,
          history: { engine: deps.timeseries.engine, range: input.range, ...history },
        };
      }),

    /** The organization's ten devices with the longest uptime (seconds), from `uptime:leaderboard:<orgId>`. */
    uptimeLeaderboard: userProcedure('viewer').query(async ({ ctx }) => {
      const ranked = await deps.cache.zrevrange(uptimeLeaderboardKey(ctx.user.organizationId), 0, LEADERBOARD_SIZE * 2 - 1);
      if (ranked.length === 0) return [];
      // Names from PostgreSQL; removed or decommissioned devices drop out of the ranking.
      const rows = await namesOf(deps.db, ctx.user.organizationId, ranked.map((entry) => entry.member), false);
      const devices = new Map(rows.map((row) => [row.id, row]));
      return ranked
        .filter((entry) => devices.has(entry.member))
        .slice(0, LEADERBOARD_SIZE)
        .map((entry, i) => ({ rank: i + 1, deviceId: entry.member, name: devices.get(entry.member)!.name, status: devices.get(entry.member)!.status, uptimeSec: entry.score }));
    }),
  });
}
