/**
 * The queries of the product's database strategy (docs: the seed's database-strategy.md), copied
 * verbatim, trailing spaces and semicolons included: the engine tests run them as written against
 * real engines, so a schema change that breaks one of them fails there.
 */

/** The five ClickHouse analytics queries, keyed by what they answer. */
export const SEED_CLICKHOUSE_QUERIES = {
  /** Average CPU usage per device over last 30 days */
  deviceCpu: `SELECT 
    device_id,
    avg(cpu_avg) as avg_cpu,
    max(cpu_max) as peak_cpu
FROM device_metrics_hourly
WHERE timestamp >= now() - INTERVAL 30 DAY
GROUP BY device_id
ORDER BY peak_cpu DESC;`,
  /** Average resolution time by technician */
  technicianStats: `SELECT 
    technician_id,
    countIf(event_type = 'closed') as tickets_closed,
    avgIf(duration_seconds, event_type = 'closed') / 3600 as avg_hours,
    sumIf(1, sla_breached = 1) as sla_breaches
FROM ticket_events
WHERE timestamp >= now() - INTERVAL 7 DAY
GROUP BY technician_id
ORDER BY tickets_closed DESC;`,
  /** API usage per customer for billing */
  apiUsage: `SELECT 
    organization_id,
    count() as total_calls,
    avg(response_time_ms) as avg_response_time,
    countIf(status_code >= 500) as error_count
FROM api_calls
WHERE timestamp >= toStartOfMonth(now())
GROUP BY organization_id;`,
  /** Monthly invoice calculation */
  monthlyInvoice: `SELECT 
    organization_id,
    sum(device_count) * 5 as device_cost,
    sum(api_calls) * 0.001 as api_cost,
    sum(storage_gb) * 0.10 as storage_cost,
    sum(cost_usd) as total_cost
FROM billing_events
WHERE event_date >= toStartOfMonth(now())
GROUP BY organization_id;`,
  /** Current device status counts */
  deviceStatus: `SELECT 
    organization_id,
    status,
    countMerge(device_count) as total_devices
FROM device_status_realtime
GROUP BY organization_id, status;`,
} as const;

/** The strategy's dashboard Flux query, with its `${deviceId}` interpolation. */
export const seedFluxQuery = (deviceId: string) => `  from(bucket: "metrics")
    |> range(start: -1h)
    |> filter(fn: (r) => r._measurement == "device_metrics")
    |> filter(fn: (r) => r.device_id == "${deviceId}")
    |> aggregateWindow(every: 5m, fn: mean)
`;
