import type { AnalyticsStore } from '../../stores/analytics/index.ts';
import { BILLABLE_SOURCES } from '../billing/index.ts';

/**
 * Every ClickHouse statement of the analytics feature, one typed function each, so a renamed
 * column touches this file alone: the strategy's five queries as given (with the caller's
 * organization added; `at` pins "this month" for tests and past invoices, now by default), the
 * weekly report's call totals, and what the rollup, the ETL, the archive and the size sampler
 * read, delete and export. Rows are written through the store's `insert`, which takes no SQL.
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

/** Calls, their average response time and 5xx count over the last 7 days (the weekly report's line). */
export async function apiCallsLast7Days(analytics: AnalyticsStore, organizationId: string): Promise<{ totalCalls: number; avgResponseTimeMs: number | null; errorCount: number }> {
  const calls = await analytics.query<{ total: string; avg_ms: number | null; errors: string }>(
    `SELECT count() AS total, avg(response_time_ms) AS avg_ms, countIf(status_code >= 500) AS errors
       FROM api_calls WHERE organization_id = {organizationId:UUID} AND timestamp >= now() - INTERVAL 7 DAY`, { organizationId });
  const call = calls[0];
  const avgMs = call?.avg_ms === null || call?.avg_ms === undefined ? null : Number(call.avg_ms);
  return { totalCalls: Number(call?.total ?? 0), avgResponseTimeMs: avgMs === null || Number.isNaN(avgMs) ? null : avgMs, errorCount: Number(call?.errors ?? 0) };
}

/** Each hour's latest rollup mark (`done` or `dirty`) from `fromMs` on, hours in epoch ms. */
export async function rollupMarksSince(analytics: AnalyticsStore, fromMs: number): Promise<{ hourMs: number; status: string }[]> {
  const state = await analytics.query<{ hour: string; status: string }>(
    `SELECT toUnixTimestamp(hour) AS hour, argMax(status, version) AS status FROM rollup_state
     WHERE hour >= {from:DateTime} GROUP BY hour`,
    { from: new Date(fromMs) },
  );
  return state.map((row) => ({ hourMs: Number(row.hour) * 1000, status: row.status }));
}

/** Deletes an hour's rolled-up rows, so that a rerun replaces the hour. */
export async function deleteHourlyMetrics(analytics: AnalyticsStore, hourMs: number): Promise<void> {
  await analytics.exec('DELETE FROM device_metrics_hourly WHERE timestamp = {hour:DateTime}', { hour: new Date(hourMs) });
}

/** Each device's latest status in `device_heartbeats`, as the status view counts it: device id → status. */
export async function latestDeviceStatuses(analytics: AnalyticsStore): Promise<Map<string, string>> {
  return new Map((await analytics.query<{ device_id: string; status: string }>(
    'SELECT device_id, argMaxMerge(status_state) AS status FROM device_status_latest GROUP BY device_id',
  )).map((row) => [row.device_id, row.status]));
}

/** Active parts and bytes on disk per table of the current database. */
export async function tableSizes(analytics: AnalyticsStore): Promise<{ table: string; parts: number; bytes: number }[]> {
  const rows = await analytics.query<{ table: string; parts: string; bytes: string }>(
    `SELECT table, count() AS parts, sum(bytes_on_disk) AS bytes FROM system.parts
     WHERE active AND database = currentDatabase() GROUP BY table`,
  );
  return rows.map((row) => ({ table: row.table, parts: Number(row.parts), bytes: Number(row.bytes) }));
}

// The archive: table names come from system.parts filtered by the archived list, partition ids
// are checked by the caller, and the rest are literals escaped here, since ClickHouse takes no
// query parameter in a table function, an OUTFILE or a partition id.

/** An S3 bucket or prefix, with credentials when it needs them. */
export interface S3Target { url: string; accessKeyId?: string | undefined; secretAccessKey?: string | undefined }

const literal = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

function s3Function(target: S3Target, path: string) {
  const url = `${target.url.replace(/\/+$/, '')}/${path}`;
  const credentials = target.accessKeyId && target.secretAccessKey ? `, ${literal(target.accessKeyId)}, ${literal(target.secretAccessKey)}` : '';
  return `s3(${literal(url)}${credentials}, 'Parquet')`;
}

const partitionSelect = (table: string, partitionId: string) => `SELECT * FROM ${table} WHERE _partition_id = ${literal(partitionId)}`;

/** The one row's `n`, or -1 when there is none (which never verifies an export). */
const count = async (analytics: AnalyticsStore, sql: string, params?: Record<string, string>) =>
  Number((await analytics.query<{ n: string }>(sql, params))[0]?.n ?? -1);

/** Partitions of `tables` whose newest row is older than the cutoff, with their row counts. */
export async function coldPartitions(analytics: AnalyticsStore, tables: readonly string[], cutoffMs: number): Promise<{ table: string; partitionId: string; rows: number }[]> {
  const rows = await analytics.query<{ table: string; partition_id: string; rows: string }>(
    `SELECT table, partition_id, sum(rows) AS rows FROM system.parts
     WHERE active AND database = currentDatabase() AND table IN {tables:Array(String)}
     GROUP BY table, partition_id
     HAVING max(greatest(toUnixTimestamp(max_time), toUnixTimestamp(toDateTime(max_date)))) < {cutoff:UInt32}
     ORDER BY table, partition_id`,
    { tables: [...tables], cutoff: Math.floor(cutoffMs / 1000) },
  );
  return rows.map((row) => ({ table: row.table, partitionId: row.partition_id, rows: Number(row.rows) }));
}

/** Rows of one partition still in its table. */
export const partitionRowCount = (analytics: AnalyticsStore, table: string, partitionId: string) =>
  count(analytics, `SELECT count() AS n FROM ${table} WHERE _partition_id = {p:String}`, { p: partitionId });

/** Writes a partition to `path` under the S3 target as Parquet, replacing an earlier try. */
export async function exportPartitionToS3(analytics: AnalyticsStore, table: string, partitionId: string, target: S3Target, path: string): Promise<void> {
  await analytics.exec(`INSERT INTO FUNCTION ${s3Function(target, path)} ${partitionSelect(table, partitionId)} SETTINGS s3_truncate_on_insert = 1`);
}

/** Rows of the Parquet file at `path` under the S3 target. */
export const s3RowCount = (analytics: AnalyticsStore, target: S3Target, path: string) =>
  count(analytics, `SELECT count() AS n FROM ${s3Function(target, path)}`);

/** Writes a partition to a local Parquet file (the embedded engine's INTO OUTFILE), replacing an earlier try. */
export async function exportPartitionToFile(analytics: AnalyticsStore, table: string, partitionId: string, location: string): Promise<void> {
  await analytics.exec(`${partitionSelect(table, partitionId)} INTO OUTFILE ${literal(location)} TRUNCATE FORMAT Parquet`);
}

/** Rows of a local Parquet file. */
export const fileRowCount = (analytics: AnalyticsStore, location: string) =>
  count(analytics, `SELECT count() AS n FROM file(${literal(location)}, Parquet)`);

/** Drops a partition, once its export verified. */
export async function dropPartition(analytics: AnalyticsStore, table: string, partitionId: string): Promise<void> {
  await analytics.exec(`ALTER TABLE ${table} DROP PARTITION ID ${literal(partitionId)}`);
}
