/** Bookkeeping for the jobs: which hours and days are done, and the facts copied from PostgreSQL. */
export const jobs: readonly string[] = [
  // status 'done' by the rollup, 'dirty' when late samples land in a finished hour; the latest version wins.
  `CREATE TABLE IF NOT EXISTS rollup_state (
    hour DateTime,
    status LowCardinality(String),
    version UInt64
  ) ENGINE = ReplacingMergeTree(version)
  ORDER BY hour`,

  `CREATE TABLE IF NOT EXISTS billing_state (
    event_date Date,
    version UInt64
  ) ENGINE = ReplacingMergeTree(version)
  ORDER BY event_date`,

  // Hourly device counts per organization from PostgreSQL (the ETL); billing reads the day's peak.
  `CREATE TABLE IF NOT EXISTS device_count_facts (
    organization_id UUID,
    hour DateTime,
    device_count UInt32,
    online_count UInt32
  ) ENGINE = ReplacingMergeTree()
  PARTITION BY toYYYYMM(hour)
  ORDER BY (organization_id, hour)`,
];
