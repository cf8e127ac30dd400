/**
 * The server's stores and writers in words, for the System and "data not stored" pages: what each
 * one keeps, and which engine runs it. Unknown names are shown as they are, never hidden.
 */

/** What each store (as /readyz and system.status name it) keeps. */
export const STORE_PURPOSE: Record<string, string> = {
  relational: 'Devices, people and settings',
  cache: 'Sessions and live values',
  analytics: 'Reports and hourly history',
  timeseries: 'Metric history for charts',
  documents: 'Logs and the audit log',
};

/** Where a device's record was headed, by the writer (sink) that takes it from the ingest log. */
export const SINK_PURPOSE: Record<string, string> = {
  ingest: 'Nowhere yet: set aside on arrival',
  relational: 'Device status and inventory',
  cache: 'Live values',
  clickhouse: 'Reports and charts',
  influx: 'Metric history',
  alerts: 'Alert rules (metric conditions)',
};

const ENGINE: Record<string, string> = {
  pglite: 'PostgreSQL, built in',
  postgres: 'PostgreSQL',
  memory: 'kept in the server process, built in',
  redis: 'Redis',
  chdb: 'ClickHouse, built in',
  clickhouse: 'ClickHouse',
  influxdb: 'InfluxDB',
  mongodb: 'MongoDB',
  relational: 'PostgreSQL tables',
};

/** "raw-table-on-chdb" → "a table in ClickHouse, built in": engines that ride on another say so. */
export function engineWords(engine: string): string {
  const [kind, host] = engine.split('-on-');
  if (host) return `${kind === 'documents' ? 'tables' : 'a table'} in ${ENGINE[host] ?? host}`;
  return ENGINE[engine] ?? engine;
}
