import { readiness } from '../platform/http/probes.ts';
import { storeHealthChecks } from './store-health.ts';
import { countQuarantine } from '../features/ingest/quarantine.ts';
import { drainerLagRows } from '../features/ingest/trimmer.ts';
import { runsInstall } from '../features/organizations/organizations.ts';
import { router, userProcedure } from '../platform/trpc/trpc.ts';
import { listSystemAlerts } from '../features/alerts/index.ts';
import type { Metrics } from '../platform/obs/metrics.ts';
import type { Services } from './services.ts';

/** Counting quarantined records stops here: the page says "at least" past it. */
export const QUARANTINE_COUNT_CAP = 10_000;

/** The strategy's target for the cache's hit rate. */
export const CACHE_HIT_TARGET = 0.95;
/** Open and recent system alerts shown. */
const SYSTEM_ALERTS_SHOWN = 10;

/** Hits and misses of the cache port's reads since this server started; the ratio is null before any read. */
export async function cacheHitRate(metrics: Pick<Metrics, 'cacheReads'>) {
  const { values } = await metrics.cacheReads.get();
  const sum = (result: string) => values.filter((value) => value.labels.result === result).reduce((total, value) => total + value.value, 0);
  const hits = sum('hit');
  const misses = sum('miss');
  return { hits, misses, ratio: hits + misses > 0 ? hits / (hits + misses) : null, target: CACHE_HIT_TARGET };
}

const queryOf = (details: unknown) => {
  const query = (details as { query?: unknown } | null)?.query;
  return typeof query === 'string' ? query : null;
};

const byName = (map: Map<string, number>) => [...map].map(([name, count]) => ({ name, count: Number(count) })).sort((a, b) => a.name.localeCompare(b.name));

/** The stores it checks and the metrics it reads. */
export type SystemRouterDeps = Pick<Services, 'db' | 'cache' | 'analytics' | 'timeseries' | 'documents' | 'metrics'>;

/**
 * What the console's System page shows admins. `organization`: their own organization's records
 * the server could not store. `server`: the stores, the backlog of each store's writer and every
 * organization's set-aside records, only for admins of the organization that runs this server
 * (engines and hosts map a deployment; tenants get null), with the cache's hit rate against the
 * strategy's target and the system alerts (slow queries). /readyz says the same to the machine.
 */
export function createSystemRouter(deps: SystemRouterDeps) {
  return router({
    status: userProcedure('admin').query(async ({ ctx }) => {
      const { db } = deps;
      const [quarantined, operator] = await Promise.all([
        countQuarantine(db, { organizationId: ctx.user.organizationId, cap: QUARANTINE_COUNT_CAP }), runsInstall(db, ctx.user.organizationId),
      ]);
      const organization = { quarantined: byName(quarantined), countCap: QUARANTINE_COUNT_CAP };
      if (!operator) return { organization, server: null };
      const [ready, backlog, everyQuarantined, cache, alerts] = await Promise.all([
        readiness(storeHealthChecks(deps)), drainerLagRows(db), countQuarantine(db, { cap: QUARANTINE_COUNT_CAP }),
        cacheHitRate(deps.metrics), listSystemAlerts(db, SYSTEM_ALERTS_SHOWN),
      ]);
      return {
        organization,
        server: {
          ready: ready.ready,
          stores: Object.entries(ready.stores).map(([name, health]) => ({ name, ...health })),
          backlog: byName(backlog),
          quarantined: byName(everyQuarantined),
          cache,
          // The query's text is for the people who run the server, as their logs are.
          alerts: alerts.map(({ details, ...alert }) => ({ ...alert, query: queryOf(details) })),
        },
      };
    }),
  });
}
