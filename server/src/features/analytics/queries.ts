import type { AnalyticsStore } from '../../stores/analytics/index.ts';
import { BILLABLE_SOURCES } from '../billing/index.ts';

/**
 * The strategy's five analytics queries, as given, with the caller's organization added.
 * `at` pins "this month" (tests, past invoices); it defaults to now.
 */

const num = (value: unknown) => (value === null || value === undefined ? null : Number(value));

export interface DeviceCpu { deviceId: string; avgCpu: number; peakCpu: number }

/** Average and peak CPU per device over `days` (30 in the strategy). The hourly table has no organization: the caller passes its devices. */
export async function deviceCpu(analytics: AnalyticsStore, deviceIds: readonly string[], days = 30): Promise<DeviceCpu[]> {
  if (deviceIds.length === 0) return [];
  const rows = await analytics.query<{ device_id: string; avg_cpu: number; peak_cpu: number }>(
    `SELECT
        device_id,
        avg(cpu_avg) as avg_cpu,
        max(cpu_max) as peak_cpu
    FROM device_metrics_hourly
    WHERE timestamp >= now() - INTERVAL {days:UInt32} DAY
      AND device_id IN {deviceIds:Array(UUID)}
    GROUP BY device_id
    ORDER BY peak_cpu DESC`,
    { days, deviceIds },
  );
  return rows.map((row) => ({ deviceId: row.device_id, avgCpu: Number(row.avg_cpu), peakCpu: Number(row.peak_cpu) }));
}

export interface TechnicianStats { technicianId: string; ticketsClosed: number; avgHours: number | null; slaBreaches: number }

/** Tickets closed, average hours to close and SLA breaches per technician over `days` (7 in the strategy). */
export async function technicianStats(analytics: AnalyticsStore, organizationId: string, days = 7): Promise<TechnicianStats[]> {
  const rows = await analytics.query<{ technician_id: string; tickets_closed: string; avg_hours: number | null; sla_breaches: string }>(
    `SELECT
        technician_id,
        countIf(event_type = 'closed') as tickets_closed,
        avgIf(duration_seconds, event_type = 'closed') / 3600 as avg_hours,
        sumIf(1, sla_breached = 1) as sla_breaches
    FROM ticket_events
    WHERE timestamp >= now() - INTERVAL {days:UInt32} DAY
      AND organization_id = {organizationId:UUID}
    GROUP BY technician_id
    ORDER BY tickets_closed DESC, technician_id`,
    { days, organizationId },
  );
  return rows.map((row) => {
    const avgHours = num(row.avg_hours);
    return {
      technicianId: row.technician_id,
      ticketsClosed: Number(row.tickets_closed),
      avgHours: avgHours === null || Number.isNaN(avgHours) ? null : avgHours,
      slaBreaches: Number(row.sla_breaches),
    };
  });
}

export interface ApiUsage {
  /** Calls by people and API keys: what the invoice's API line counts. */
  totalCalls: number;
  avgResponseTimeMs: number | null;
  errorCount: number;
  /** Agents' heartbeats, pushes and reports: recorded, shown apart, never billed. */
  agentCalls: number;
}

/**
 * The month of `at`: billable API calls (people and API keys, as billing counts them) with their
 * average response time and 5xx count (the strategy's query, restricted to those sources), and
 * the agents' traffic counted apart.
 */
export async function apiUsageForMonth(analytics: AnalyticsStore, organizationId: string, at: Date = new Date()): Promise<ApiUsage> {
  const rows = await analytics.query<{ total_calls: string; avg_response_time: number | null; error_count: string }>(
    `SELECT
        organization_id,
        count() as total_calls,
        avg(response_time_ms) as avg_response_time,
        countIf(status_code >= 500) as error_count
    FROM api_calls
    WHERE timestamp >= toStartOfMonth({at:DateTime})
      AND timestamp < toStartOfMonth({at:DateTime}) + INTERVAL 1 MONTH
      AND organization_id = {organizationId:UUID}
      AND source IN {sources:Array(String)}
    GROUP BY organization_id`,
    { at, organizationId, sources: [...BILLABLE_SOURCES] },
  );
  const agents = await analytics.query<{ calls: string }>(
    `SELECT count() AS calls FROM api_calls
     WHERE timestamp >= toStartOfMonth({at:DateTime}) AND timestamp < toStartOfMonth({at:DateTime}) + INTERVAL 1 MONTH
       AND organization_id = {organizationId:UUID} AND source = 'agent'`,
    { at, organizationId },
  );
  const agentCalls = Number(agents[0]?.calls ?? 0);
  const row = rows[0];
  return row
    ? { totalCalls: Number(row.total_calls), avgResponseTimeMs: num(row.avg_response_time), errorCount: Number(row.error_count), agentCalls }
    : { totalCalls: 0, avgResponseTimeMs: null, errorCount: 0, agentCalls };
}

const toMicroUnits = (amount: unknown): number => Math.round(Number(amount) * 1e6) / 1e6;

export interface Invoice { deviceCost: number; apiCost: number; storageCost: number; totalCost: number; currency: string }

/**
 * The month's invoice, from what billing wrote for each day: devices, billable API calls and
 * storage, each priced at the contract in force that day (see features/billing), and the total.
 */
export async function monthlyInvoice(analytics: AnalyticsStore, organizationId: string, at: Date = new Date()): Promise<Invoice> {
  const rows = await analytics.query<{ device_cost: number; api_cost: number; storage_cost: number; currency: string }>(
    `SELECT
        sum(device_cost) as device_cost,
        sum(api_cost) as api_cost,
        sum(storage_cost) as storage_cost,
        any(currency) as currency
    FROM billing_events
    WHERE event_date >= toStartOfMonth({at:DateTime})
      AND event_date < toStartOfMonth({at:DateTime}) + INTERVAL 1 MONTH
      AND organization_id = {organizationId:UUID}
    GROUP BY organization_id`,
    { at, organizationId },
  );
  const row = rows[0];
  if (!row) return { deviceCost: 0, apiCost: 0, storageCost: 0, totalCost: 0, currency: 'USD' };
  // ClickHouse sums parts in whatever order its threads finish, so the last bits of a float sum
  // differ between runs; an invoice must read the same every time, so it is kept to micro-units.
  const [deviceCost, apiCost, storageCost] = [row.device_cost, row.api_cost, row.storage_cost].map(toMicroUnits) as [number, number, number];
  return { deviceCost, apiCost, storageCost, totalCost: toMicroUnits(deviceCost + apiCost + storageCost), currency: row.currency };
}

export interface StatusCount { status: string; totalDevices: number }

/** Current devices per status, from the status view. */
export async function deviceStatusCounts(analytics: AnalyticsStore, organizationId: string): Promise<StatusCount[]> {
  const rows = await analytics.query<{ status: string; total_devices: string }>(
    `SELECT
        organization_id,
        status,
        countMerge(device_count) as total_devices
    FROM device_status_realtime
    WHERE organization_id = {organizationId:UUID}
    GROUP BY organization_id, status
    ORDER BY status`,
    { organizationId },
  );
  return rows.map((row) => ({ status: row.status, totalDevices: Number(row.total_devices) }));
}
