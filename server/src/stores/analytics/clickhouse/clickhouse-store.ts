import { createClient, type ClickHouseClient } from '@clickhouse/client';
import type { StoreHealth } from '../../types.ts';
import { assertIdentifier, normaliseParams, type AnalyticsStore } from '../types.ts';

export interface ClickhouseOptions {
  url: string;
  username?: string;
  password?: string;
  database?: string;
  requestTimeoutMs?: number;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** A ClickHouse server over HTTP. Parameters go as query parameters (`{name:Type}`), bound by the server. */
export function createClickhouseStore(options: ClickhouseOptions): AnalyticsStore {
  const client: ClickHouseClient = createClient({
    url: options.url,
    username: options.username ?? 'default',
    password: options.password ?? '',
    database: options.database ?? 'default',
    request_timeout: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    // ISO strings and Unix seconds both parse, whatever the server's time zone.
    // 64-bit integers as JSON numbers, as chdb writes them: one result shape for both adapters (counts stay far below 2^53).
    clickhouse_settings: { date_time_input_format: 'best_effort', output_format_json_quote_64bit_integers: 0 },
  });
  const bind = (params?: Parameters<typeof normaliseParams>[0]) =>
    params && Object.keys(params).length > 0 ? { query_params: normaliseParams(params) } : {};

  return {
    engine: 'clickhouse',
    async exec(sql, params) {
      await client.command({ query: sql, ...bind(params) });
    },
    async query<Row>(sql: string, params?: Parameters<typeof normaliseParams>[0]) {
      const result = await client.query({ query: sql, format: 'JSONEachRow', ...bind(params) });
      return result.json<Row>();
    },
    async insert(table, rows, insertOptions = {}) {
      if (rows.length === 0) return;
      await client.insert({
        table: assertIdentifier(table),
        values: rows as unknown[],
        format: 'JSONEachRow',
        ...(insertOptions.dedupToken ? { clickhouse_settings: { insert_deduplication_token: insertOptions.dedupToken } } : {}),
      });
    },
    async health(): Promise<StoreHealth> {
      const started = performance.now();
      const ping = await client.ping();
      if (!ping.success) return { ok: false, engine: 'clickhouse', error: ping.error.message };
      return { ok: true, engine: 'clickhouse', latencyMs: Math.round(performance.now() - started) };
    },
    close: () => client.close(),
  };
}
