import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { eventLoopDelayHistogram } from './event-loop-delay.ts';

/**
 * One registry per server instance, so several servers can live in one test process. Gauges of a
 * shared thing (a store's size, a drainer's lag) say how they merge over a server's workers
 * (cluster-metrics.ts): the largest; the rest add up.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'ninjait_process_' });
  const registers = [registry];
  return {
    registry,
    eventLoopDelay: eventLoopDelayHistogram(registry),
    connectedAgents: new Gauge({ name: 'ninjait_connected_agents', help: 'Agents with an authenticated socket on this instance', registers }),
    recordsIngested: new Counter({ name: 'ninjait_records_ingested_total', help: 'Records durably appended to the ingest log', labelNames: ['kind'], registers }),
    recordsReplayed: new Counter({ name: 'ninjait_records_replayed_total', help: 'Records received again and filtered as already logged', registers }),
    logRowsRead: new Counter({ name: 'ninjait_ingest_log_rows_read_total', help: 'Ingest-log rows the drainers read back from the database (rows handed over in memory are not counted)', registers }),
    ackLatency: new Histogram({
      name: 'ninjait_ingest_ack_latency_seconds', help: 'From push received to ack sent (durably logged)', registers,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    }),
    groupCommitSize: new Histogram({ name: 'ninjait_ingest_group_commit_pushes', help: 'Pushes committed together', buckets: [1, 2, 5, 10, 25, 50, 100, 250, 1000], registers }),
    storeWriteLatency: new Histogram({
      name: 'ninjait_store_write_duration_seconds', help: 'Drainer batch write time per store', labelNames: ['store'], registers,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    }),
    storeErrors: new Counter({ name: 'ninjait_store_errors_total', help: 'Failed store operations', labelNames: ['store'], registers }),
    drainerLagRows: new Gauge({ name: 'ninjait_drainer_lag_rows', aggregator: 'max', help: 'Ingest log rows not yet written to the store', labelNames: ['store'], registers }),
    drainerLagSeconds: new Gauge({ name: 'ninjait_drainer_lag_seconds', aggregator: 'max', help: 'Age of the oldest row not yet written to the store', labelNames: ['store'], registers }),
    /** `sink` is the store that could not write the record, or `ingest` for one set aside on arrival (outside the time window). */
    recordsQuarantined: new Counter({ name: 'ninjait_ingest_quarantined_total', help: 'Records set aside in ingest_quarantine instead of being stored', labelNames: ['sink'], registers }),
    agentDropped: new Counter({ name: 'ninjait_agent_dropped_records_total', help: 'Records agents dropped because their buffer was full, as they report', registers }),
    analyticsTableBytes: new Gauge({ name: 'ninjait_analytics_table_bytes', aggregator: 'max', help: 'Bytes on disk of active ClickHouse parts', labelNames: ['table'], registers }),
    analyticsTableParts: new Gauge({ name: 'ninjait_analytics_table_parts', aggregator: 'max', help: 'Active ClickHouse parts', labelNames: ['table'], registers }),
    apiCallsDropped: new Counter({ name: 'ninjait_api_calls_dropped_total', help: 'api_calls rows dropped because the buffer was full', registers }),
    apiCallsBuffered: new Gauge({ name: 'ninjait_api_calls_buffered', help: 'api_calls rows waiting to be written', registers }),
    /** Any store's read/query time; `operation` names the query (e.g. `logs.find`, `series`). */
    storeQueryLatency: new Histogram({
      name: 'ninjait_store_query_duration_seconds', help: 'Query time per store and operation', labelNames: ['store', 'operation'], registers,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    }),
    slowQueries: new Counter({ name: 'ninjait_store_slow_queries_total', help: 'Queries slower than SLOW_QUERY_MS (ANALYTICS_SLOW_QUERY_MS for analytics), logged with their text', labelNames: ['store'], registers }),
    storeSizeBytes: new Gauge({ name: 'ninjait_store_size_bytes', aggregator: 'max', help: 'Database size per store, sampled periodically', labelNames: ['store'], registers }),
    /** Hit rate = hits / (hits + misses) per cache use (e.g. `api:devices`). */
    cacheLookups: new Counter({ name: 'ninjait_cache_lookups_total', help: 'Cache lookups by use and result (hit, miss)', labelNames: ['cache', 'result'], registers }),
    /** Reads through the cache port (`get`, `mget`: each key), by key family (`device`, `api`, `sess`...). */
    cacheReads: new Counter({ name: 'ninjait_cache_reads_total', help: 'Cache port reads by key family and result (hit, miss)', labelNames: ['family', 'result'], registers }),
    cacheHitRatio: new Gauge({ name: 'ninjait_cache_hit_ratio', aggregator: 'average', help: 'Hits / (hits + misses) of the cache port\'s reads since start (the strategy\'s target: above 0.95)', registers }),
    cacheDatasetBytes: new Gauge({ name: 'ninjait_cache_dataset_bytes', aggregator: 'max', help: 'Redis INFO memory used_memory_dataset: the data without server overhead (the whole used_memory is ninjait_store_size_bytes{store="cache"})', registers }),
    cacheKeys: new Gauge({ name: 'ninjait_cache_keys', aggregator: 'max', help: 'Keys in the cache database (DBSIZE)', registers }),
    timeseriesSeries: new Gauge({ name: 'ninjait_timeseries_series', aggregator: 'max', help: 'Series per InfluxDB bucket (influxdb.cardinality over the bucket\'s retention)', labelNames: ['bucket'], registers }),
    logsShipped: new Counter({ name: 'ninjait_logs_shipped_total', help: 'Warning and error log lines written to the documents store', registers }),
    logsDropped: new Counter({ name: 'ninjait_logs_dropped_total', help: 'Log lines dropped because the shipping buffer was full', registers }),
    downloadStreams: new Counter({ name: 'ninjait_download_streams_total', help: 'Download streams offered to devices, by outcome: streamed; declined (no stream came, so the download went by chunks: an older agent, a connection that reached another instance, a proxy that drops the upgrade); broken (broke off part way; the caller resumes)', labelNames: ['outcome'], registers }),
    auditWriteFailures: new Counter({ name: 'ninjait_audit_write_failures_total', help: 'Audit entries that could not be written (logged instead)', registers }),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
