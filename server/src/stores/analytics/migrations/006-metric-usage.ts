/**
 * What each device's samples weigh, per day, counted by the ClickHouse sink as it drains them:
 * billing's storage figure, whichever store keeps the raw series (the raw table here, or InfluxDB,
 * where ClickHouse keeps no copy of them). `bytes` is the samples' size as written to the
 * time-series store (InfluxDB line protocol), before any engine's compression, so an invoice does
 * not depend on where the operator keeps them. One row per device per day after merges; replays
 * are dropped by the insert deduplication token, so a sample is counted once.
 * Kept past a year so a past day can be billed again; it is too small to archive.
 */
export const metricUsage: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS metric_usage_daily (
    organization_id UUID,
    device_id UUID,
    day Date,
    samples UInt64,
    bytes UInt64
  ) ENGINE = SummingMergeTree((samples, bytes))
  PARTITION BY toYYYYMM(day)
  ORDER BY (organization_id, day, device_id)
  TTL day + INTERVAL 400 DAY
  SETTINGS non_replicated_deduplication_window = 1000`,
];
