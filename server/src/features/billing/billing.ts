import type { AnalyticsStore } from '../../stores/analytics/index.ts';
import type { RelationalStore } from '../../stores/relational/index.ts';
import { DAY_MS, isoDate, startOfDayMs } from '../../stores/analytics/time.ts';
import { billedDaysSince, callCounts, deleteBillingDay, peakDeviceCounts, storedGbOfDay } from './clickhouse-queries.ts';
import { firstOrganizationCreatedAt, liveDeviceCounts } from './repository.ts';
import { contractsInForce } from './contracts.ts';
import { LIST_RATES, priceDay, type DayUsage } from './rates.ts';

/** Days missed while the server was down are billed when it comes back, this far back. */
export const BILLING_BACKFILL_DAYS = 31;

/** Who pays for API calls: people and integrations; agents' heartbeats and pushes are not billed. */
export const BILLABLE_SOURCES = ['person', 'api_key'] as const;

async function usageForDay(db: RelationalStore, analytics: AnalyticsStore, dayMs: number): Promise<Map<string, DayUsage>> {
  const from = new Date(dayMs);
  const to = new Date(dayMs + DAY_MS);
  const usage = new Map<string, DayUsage>();
  for (const org of await liveDeviceCounts(db)) usage.set(org.id, { deviceCount: org.devices, apiCalls: 0, storageGb: 0 });
  // The ETL's hourly counts give the day's peak; PostgreSQL's current count stands in for days it missed.
  for (const row of await peakDeviceCounts(analytics, from, to)) {
    const entry = usage.get(row.organizationId);
    if (entry) entry.deviceCount = row.peak;
  }
  for (const row of await callCounts(analytics, from, to, BILLABLE_SOURCES)) {
    const entry = usage.get(row.organizationId);
    if (entry) entry.apiCalls = row.calls;
  }
  // Storage: the bytes of the samples its devices collected that day, counted at ingest (migration 006),
  // so the figure is the same whether the raw series live in ClickHouse or in InfluxDB.
  for (const row of await storedGbOfDay(analytics, dayMs)) {
    const entry = usage.get(row.organizationId);
    if (entry) entry.storageGb = row.gb;
  }
  return usage;
}

/**
 * Writes one `billing_events` row per organization for a finished day, priced at the contract in
 * force that day (the list prices without one); a rerun replaces the day. The row keeps each
 * part of the price, so the invoice never multiplies by rates that may have changed since.
 */
export async function billDay(db: RelationalStore, analytics: AnalyticsStore, dayMs: number): Promise<number> {
  const version = Date.now();
  const usage = await usageForDay(db, analytics, dayMs);
  const eventDate = isoDate(dayMs);
  const contracts = await contractsInForce(db, eventDate);
  // SummingMergeTree would add a second run to the first: the day goes before it is written again.
  await deleteBillingDay(analytics, eventDate);
  await analytics.insert('billing_events', [...usage].map(([organizationId, day]) => {
    const rates = contracts.get(organizationId) ?? LIST_RATES;
    const cost = priceDay(day, rates, dayMs);
    return {
      organization_id: organizationId,
      event_date: eventDate,
      device_count: day.deviceCount,
      api_calls: day.apiCalls,
      storage_gb: day.storageGb,
      backup_gb: 0,
      cost_usd: cost.total,
      device_cost: cost.deviceCost,
      api_cost: cost.apiCost,
      storage_cost: cost.storageCost,
      currency: rates.currency,
    };
  }));
  await analytics.insert('billing_state', [{ event_date: eventDate, version }]);
  return usage.size;
}

/** Bills every finished day not billed yet (yesterday, and days missed while down). Returns the days billed. */
export async function runDailyBilling(db: RelationalStore, analytics: AnalyticsStore, nowMs = Date.now()): Promise<string[]> {
  const today = startOfDayMs(nowMs);
  const from = today - BILLING_BACKFILL_DAYS * DAY_MS;
  const billed = new Set(await billedDaysSince(analytics, from));
  // Only days since the first organization existed need bills.
  const first = await firstOrganizationCreatedAt(db);
  if (!first) return [];
  const start = Math.max(from, startOfDayMs(first.getTime()));
  const done: string[] = [];
  for (let day = start; day < today; day += DAY_MS) {
    if (billed.has(isoDate(day))) continue;
    await billDay(db, analytics, day);
    done.push(isoDate(day));
  }
  return done;
}
