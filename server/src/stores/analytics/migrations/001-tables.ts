/**
 * The strategy's tables, as it gives them, plus the raw metrics table (the embedded time-series store)
 * and the heartbeat feed. Each entry is one statement; `IF NOT EXISTS` makes a repeated run harmless.
 */
export const tables: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS device_metrics_hourly (
    device_id UUID,
    timestamp DateTime,
    cpu_avg Float32,
    cpu_max Float32,
    memory_avg Float32,
    memory_max Float32,
    disk_usage Float32,
    network_in UInt64,
    network_out UInt64
  ) ENGINE = MergeTree()
  PARTITION BY toYYYYMM(timestamp)
  ORDER BY (device_id, timestamp)
  SETTINGS non_replicated_deduplication_window = 1000`,

  `CREATE TABLE IF NOT EXISTS ticket_events (
    ticket_id UUID,
    event_type String,
    timestamp DateTime,
    duration_seconds UInt32,
    sla_breached UInt8,
    organization_id UUID,
    technician_id UUID
  ) ENGINE = MergeTree()
  PARTITION BY toYYYYMM(timestamp)
  ORDER BY (organization_id, timestamp)
  SETTINGS non_replicated_deduplication_window = 1000`,

  `CREATE TABLE IF NOT EXISTS api_calls (
    timestamp DateTime,
    organization_id UUID,
    endpoint String,
    method String,
    status_code UInt16,
    response_time_ms UInt32,
    user_id UUID
  ) ENGINE = MergeTree()
  PARTITION BY toYYYYMM(timestamp)
  ORDER BY (organization_id, timestamp)`,

  `CREATE TABLE IF NOT EXISTS billing_events (
    organization_id UUID,
    event_date Date,
    device_count UInt32,
    api_calls UInt64,
    storage_gb Float32,
    backup_gb Float32,
    cost_usd Float32
  ) ENGINE = SummingMergeTree()
  PARTITION BY toYYYYMM(event_date)
  ORDER BY (organization_id, event_date)`,

  // Full-resolution samples, kept 7 days. Replays collapse on the sort key; readers that need
  // exact numbers before a merge group by (device_id, seq) or use FINAL.
  `CREATE TABLE IF NOT EXISTS device_metrics_raw (
    device_id UUID,
    organization_id UUID,
    timestamp DateTime64(3, 'UTC'),
    seq UInt64,
    cpu Float32,
    memory Float32,
    memory_used UInt64,
    disk_used UInt64,
    disk_usage Float32,
    network_in UInt64,
    network_out UInt64
  ) ENGINE = ReplacingMergeTree()
  PARTITION BY toYYYYMMDD(timestamp)
  ORDER BY (device_id, timestamp, seq)
  TTL toDateTime(timestamp) + INTERVAL 7 DAY
  SETTINGS non_replicated_deduplication_window = 1000`,

  // One row per device per ingest batch ('online') and per status change found in PostgreSQL.
  `CREATE TABLE IF NOT EXISTS device_heartbeats (
    organization_id UUID,
    device_id UUID,
    status String,
    timestamp DateTime
  ) ENGINE = MergeTree()
  PARTITION BY toYYYYMM(timestamp)
  ORDER BY (organization_id, device_id, timestamp)
  TTL timestamp + INTERVAL 90 DAY
  SETTINGS non_replicated_deduplication_window = 1000`,

  // Current status per device: argMax over heartbeats, partitioned by day (ERRATA: the day is in the
  // SELECT and GROUP BY). Reading merges the days, so each device counts once, under its latest status.
  `CREATE TABLE IF NOT EXISTS device_status_latest (
    organization_id UUID,
    device_id UUID,
    day Date,
    status_state AggregateFunction(argMax, String, DateTime),
    last_update AggregateFunction(max, DateTime)
  ) ENGINE = AggregatingMergeTree()
  PARTITION BY day
  ORDER BY (organization_id, device_id, day)`,

  `CREATE MATERIALIZED VIEW IF NOT EXISTS device_status_latest_mv TO device_status_latest AS
  SELECT
    organization_id,
    device_id,
    toDate(timestamp) AS day,
    argMaxState(status, timestamp) AS status_state,
    maxState(timestamp) AS last_update
  FROM device_heartbeats
  GROUP BY organization_id, device_id, day`,

  // The name and columns the strategy's status query reads, verbatim: device_count is a count
  // state over devices (not heartbeat rows), so countMerge(device_count) counts devices.
  `CREATE VIEW IF NOT EXISTS device_status_realtime AS
  SELECT
    organization_id,
    status,
    countState() AS device_count,
    maxState(last_seen) AS last_update
  FROM (
    SELECT organization_id, device_id, argMaxMerge(status_state) AS status, maxMerge(last_update) AS last_seen
    FROM device_status_latest
    GROUP BY organization_id, device_id
  )
  GROUP BY organization_id, status`,
];
