import type { StoreHealth } from '../types.ts';

/** Values for `{name:Type}` placeholders; both engines bind them server-side, never by string splicing. */
export type AnalyticsParams = Record<string, string | number | boolean | Date | readonly (string | number)[] | null>;

export interface InsertOptions {
  /**
   * Same token, same table: ClickHouse keeps the first insert and drops the replay.
   * Tables that take tokens set `non_replicated_deduplication_window`.
   */
  dedupToken?: string;
}

/**
 * The analytics port: ClickHouse over HTTP (`@clickhouse/client`) or chdb in process.
 * One set of SQL serves both; results come back as JSONEachRow objects, 64-bit integers
 * as JSON numbers on both (callers still wrap them in Number() for old servers that quote them).
 */
export interface AnalyticsStore {
  readonly engine: 'clickhouse' | 'chdb';
  /** A statement without a result (DDL, ALTER, INSERT … SELECT). */
  exec(sql: string, params?: AnalyticsParams): Promise<void>;
  query<Row = Record<string, unknown>>(sql: string, params?: AnalyticsParams): Promise<Row[]>;
  /** Rows of one call share a shape: the first row's keys name the columns. */
  insert(table: string, rows: readonly object[], options?: InsertOptions): Promise<void>;
  health(): Promise<StoreHealth>;
  close(): Promise<void>;
}

/** Table names are spliced into SQL, so only plain identifiers pass. */
export function assertIdentifier(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(name)) throw new Error(`Not a table name: ${name}`);
  return name;
}

/** Dates travel as Unix seconds (fractional for DateTime64): no time-zone parsing anywhere. */
export function normaliseParams(params: AnalyticsParams = {}): Record<string, unknown> {
  return Object.fromEntries(Object.entries(params).map(([key, value]) => [key, value instanceof Date ? Math.floor(value.getTime() / 1000) : value]));
}
