import type { AnalyticsStore } from '../../stores/analytics/index.ts';
import type { CacheStore } from '../../stores/cache/index.ts';
import type { RelationalStore } from '../../stores/relational/index.ts';
import { deviceCpu, deviceStatusCounts, technicianStats } from './queries.ts';

export const WEEKLY_REPORT_TTL_SEC = 24 * 60 * 60;
export const weeklyReportKey = (organizationId: string) => `report:weekly:${organizationId}`;

export interface WeeklyReport {
  organizationId: string;
  generatedAt: string;
  devices: Awaited<ReturnType<typeof deviceCpu>>;
  technicians: Awaited<ReturnType<typeof technicianStats>>;
  apiCalls: { totalCalls: number; avgResponseTimeMs: number | null; errorCount: number };
  statuses: Awaited<ReturnType<typeof deviceStatusCounts>>;
}

/** The last 7 days of an organization from ClickHouse, served from the cache for 24 h. */
export async function weeklyReport(deps: { db: RelationalStore; analytics: AnalyticsStore; cache: CacheStore }, organizationId: string): Promise<WeeklyReport & { cached: boolean }> {
  const key = weeklyReportKey(organizationId);
  const hit = await deps.cache.get(key);
  if (hit) return { ...(JSON.parse(hit) as WeeklyReport), cached: true };
  const devices = (await deps.db.query<{ id: string }>('SELECT id FROM devices WHERE organization_id = $1', [organizationId])).rows;
  const [cpu, technicians, calls, statuses] = await Promise.all([
    deviceCpu(deps.analytics, devices.map((device) => device.id), 7),
    technicianStats(deps.analytics, organizationId, 7),
    deps.analytics.query<{ total: string; avg_ms: number | null; errors: string }>(
      `SELECT count() AS total, avg(response_time_ms) AS avg_ms, countIf(status_code >= 500) AS errors
       FROM api_calls WHERE organization_id = {organizationId:UUID} AND timestamp >= now() - INTERVAL 7 DAY`, { organizationId }),
    deviceStatusCounts(deps.analytics, organizationId),
  ]);
  const call = calls[0];
  const avgMs = call?.avg_ms === null || call?.avg_ms === undefined ? null : Number(call.avg_ms);
  const report: WeeklyReport = {
    organizationId,
    generatedAt: new Date().toISOString(),
    devices: cpu,
    technicians,
    apiCalls: { totalCalls: Number(call?.total ?? 0), avgResponseTimeMs: avgMs === null || Number.isNaN(avgMs) ? null : avgMs, errorCount: Number(call?.errors ?? 0) },
    statuses,
  };
  await deps.cache.set(key, JSON.stringify(report), WEEKLY_REPORT_TTL_SEC);
  return { ...report, cached: false };
}
