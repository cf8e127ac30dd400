/** Every change to a device's software, services or pending updates, for history ("when did openssl change here?"). */
export const softwareChanges: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS software_changes (
    organization_id UUID,
    device_id UUID,
    timestamp DateTime,
    kind LowCardinality(String),
    change LowCardinality(String),
    key String,
    name String,
    version String
  ) ENGINE = MergeTree()
  PARTITION BY toYYYYMM(timestamp)
  ORDER BY (organization_id, device_id, timestamp)
  SETTINGS non_replicated_deduplication_window = 1000`,
];
