import type { AnalyticsStore } from '../../stores/analytics/index.ts';
import type { CacheStore } from '../../stores/cache/index.ts';
import type { SqlExecutor } from '../../stores/relational/index.ts';
import { deviceIdsOfOrganization } from '../devices/index.ts';
import { apiCallsLast7Days, deviceCpu, deviceStatusCounts, technicianStats } from './clickhouse-queries.ts';

export const WEEKLY_REPORT_TTL_SEC = 24 * 60 * 60;
export const weeklyReportKey = (organizationId: string) => `report:weekly:${organizationId}`;

export interface WeeklyReport {
  organizationId: string;
  generatedAt: string;
  devices: Awaited<ReturnType<typeof deviceCpu>>;
  technicians: Awaited<ReturnType<typeof technicianStats>>;
  apiCalls: Awaited<ReturnType<typeof apiCallsLast7Days>>;
  statuses: Awaited<ReturnType<typeof deviceStatusCounts>>;
}

/** The last 7 days of an organization from ClickHouse, served from the cache for 24 h. */
export async function weeklyReport(deps: { db: SqlExecutor; analytics: AnalyticsStore; cache: CacheStore }, organizationId: string): Promise<WeeklyReport & { cached: boolean }> {
  const key = weeklyReportKey(organizationId);
  const hit = await deps.cache.get(key);
  if (hit) return { ...(JSON.parse(hit) as WeeklyReport), cached: true };
  const deviceIds = await deviceIdsOfOrganization(deps.db, organizationId);
  const [cpu, technicians, apiCalls, statuses] = await Promise.all([
    deviceCpu(deps.analytics, deviceIds, 7),
    technicianStats(deps.analytics, organizationId, 7),
    apiCallsLast7Days(deps.analytics, organizationId),
    deviceStatusCounts(deps.analytics, organizationId),
  ]);
  const report: WeeklyReport = {
    organizationId,
    generatedAt: new Date().toISOString(),
    devices: cpu,
    technicians,
    apiCalls,
    statuses,
  };
  await deps.cache.set(key, JSON.stringify(report), WEEKLY_REPORT_TTL_SEC);
  return { ...report, cached: false };
}
