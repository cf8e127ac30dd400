/**
 * What each device's samples weigh, per day, counted by the ClickHouse sink as it drains them:
 * billing's storage figure, whichever store keeps the raw series (the raw table here, or InfluxDB,
 * where ClickHouse keeps no copy of them). `bytes` is the samples' size as written to the
 * time-series store (InfluxDB line protocol), before any engine's compression, so an invoice does
 * not depend on where the operator keeps them.
 * A device's sequence numbers only grow in the ingest log, so `max_seq` is the sink's watermark
 * per device and day: a replayed sample (a drainer restarted mid-batch, its next batch cut
 * elsewhere, so another deduplication token) is at or below it and is not counted again. Rows of
 * one device and day merge into one.
 * Kept past a year so a past day can be billed again; it is too small to archive.
 */
export const metricUsage: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS metric_usage_daily (
    device_id UUID,
    day Date,
    organization_id UUID,
    samples SimpleAggregateFunction(sum, UInt64),
    bytes SimpleAggregateFunction(sum, UInt64),
    max_seq SimpleAggregateFunction(max, UInt64)
  ) ENGINE = AggregatingMergeTree()
  PARTITION BY toYYYYMM(day)
  ORDER BY (device_id, day, organization_id)
  TTL day + INTERVAL 400 DAY
  SETTINGS non_replicated_deduplication_window = 1000`,
];
