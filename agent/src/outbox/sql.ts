/**
 * Schema of `outbox.db`. `bytes` is stored per row so the cap and the counters stay exact
 * without re-measuring bodies; the single `meta` row keeps the running totals so every
 * process (the running agent, `enroll`, `status`) sees the same numbers.
 */
export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS records (
  seq          INTEGER PRIMARY KEY,
  collected_at INTEGER NOT NULL,
  kind         TEXT    NOT NULL,
  body         TEXT    NOT NULL,
  bytes        INTEGER NOT NULL
);
-- Finds records too old to send without reading the queue (outbox.ts, expire).
CREATE INDEX IF NOT EXISTS records_collected_at ON records (collected_at);
CREATE TABLE IF NOT EXISTS meta (
  id               INTEGER PRIMARY KEY CHECK (id = 1),
  next_seq         INTEGER NOT NULL,
  dropped_total    INTEGER NOT NULL,
  buffered_records INTEGER NOT NULL,
  buffered_bytes   INTEGER NOT NULL
);
INSERT OR IGNORE INTO meta (id, next_seq, dropped_total, buffered_records, buffered_bytes) VALUES (1, 1, 0, 0, 0);
`;

export interface MetaRow {
  next_seq: number;
  dropped_total: number;
  buffered_records: number;
  buffered_bytes: number;
}

export interface RecordRow {
  seq: number;
  collected_at: number;
  kind: string;
  body: string;
  bytes: number;
}

/** Serialized size of a record's envelope around its body (`{"seq":…,"collectedAt":…,"kind":"inventory","inventory":}`). */
export const RECORD_OVERHEAD_BYTES = 96;
