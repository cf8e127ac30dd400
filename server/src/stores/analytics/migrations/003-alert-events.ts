/** Every alert transition (opened, acknowledged, resolved, flapping), copied from PostgreSQL's alert_event_log. */
export const alertEvents: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS alert_events (
    alert_id UUID,
    event_type String,
    severity LowCardinality(String),
    timestamp DateTime,
    organization_id UUID,
    device_id UUID,
    rule_id UUID,
    actor_id UUID
  ) ENGINE = MergeTree()
  PARTITION BY toYYYYMM(timestamp)
  ORDER BY (organization_id, timestamp)
  SETTINGS non_replicated_deduplication_window = 1000`,
];
