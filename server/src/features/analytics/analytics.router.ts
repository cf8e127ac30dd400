import { z } from 'zod';
import { AppError } from '../../platform/errors.ts';
import { apiUsageForMonth, deviceCpu, deviceStatusCounts, monthlyInvoice, technicianStats } from './clickhouse-queries.ts';
import { deviceIdsOfOrganization } from '../devices/index.ts';
import { weeklyReport } from './weekly-report.ts';
import { router, userProcedure } from '../../platform/trpc/trpc.ts';
import type { AnalyticsStore } from '../../stores/analytics/index.ts';
import type { SqlExecutor } from '../../stores/relational/index.ts';
import type { CacheStore } from '../../stores/cache/index.ts';

const MAX_DAYS = 90;
const days = (fallback: number) => z.object({ days: z.number().int().min(1).max(MAX_DAYS).default(fallback) }).strict().default({ days: fallback });
/** `YYYY-MM`, not in the future; the current month when absent. */
const month = z.object({ month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'month is YYYY-MM').optional() }).strict().default({});

function monthStart(value: string | undefined): Date {
  if (!value) return new Date();
  const at = new Date(`${value}-01T00:00:00Z`);
  if (at.getTime() > Date.now()) throw new AppError('BAD_REQUEST', `${value} is in the future`);
  return at;
}

/** What these procedures use, built in the composition root (app/). */
export interface AnalyticsRouterDeps {
  analytics: AnalyticsStore;
  cache: CacheStore;
  db: SqlExecutor;
}

/** The strategy's analytics, always for the caller's organization. */
export function createAnalyticsRouter(deps: AnalyticsRouterDeps) {
  return router({
    deviceCpu30d: userProcedure('viewer').input(days(30)).query(async ({ ctx, input }) =>
      deviceCpu(deps.analytics, await deviceIdsOfOrganization(deps.db, ctx.user.organizationId), input.days)),
    technicianStats7d: userProcedure('viewer').input(days(7))
      .query(({ ctx, input }) => technicianStats(deps.analytics, ctx.user.organizationId, input.days)),
    apiUsageThisMonth: userProcedure('viewer').input(month)
      .query(({ ctx, input }) => apiUsageForMonth(deps.analytics, ctx.user.organizationId, monthStart(input.month))),
    monthlyInvoice: userProcedure('admin').input(month)
      .query(({ ctx, input }) => monthlyInvoice(deps.analytics, ctx.user.organizationId, monthStart(input.month))),
    deviceStatusCounts: userProcedure('viewer').query(({ ctx }) => deviceStatusCounts(deps.analytics, ctx.user.organizationId)),
    weeklyReport: userProcedure('viewer').query(({ ctx }) => weeklyReport(deps, ctx.user.organizationId)),
  });
}
