import { storableText } from '@ninjait/shared';
import type { SqlExecutor } from '../../stores/relational/index.ts';
import type { IngestRow } from './sinks/types.ts';

/** The dead-letter table's repository (migration 008): every query on `ingest_quarantine` is here. */

/** What the sink column says for a record set aside on arrival, before it entered the log. */
export const ARRIVAL_SINK = 'ingest';
/** Reasons are for people; a store's error message can be long. */
const REASON_CHARS = 1_000;

const storableReason = (reason: string) => storableText(reason).slice(0, REASON_CHARS);

/** A record the server acked but set aside on arrival. */
export interface ArrivalQuarantine {
  deviceId: string;
  organizationId: string;
  seq: number;
  kind: string;
  collectedAtMs: number;
  payload: unknown;
  reason: string;
}

/** Sets records aside on arrival; run in the transaction that advances their device's sequence. */
export async function quarantineArrivals(tx: SqlExecutor, records: readonly ArrivalQuarantine[]): Promise<void> {
  if (records.length === 0) return;
  await tx.query(
    `INSERT INTO ingest_quarantine (sink, device_id, organization_id, seq, kind, collected_at_ms, reason, payload)
     SELECT $1, d, o, s, k, t, r, p FROM json_to_recordset($2::json) AS x(d uuid, o uuid, s bigint, k text, t bigint, r text, p json)`,
    [ARRIVAL_SINK, JSON.stringify(records.map((record) => ({
      d: record.deviceId, o: record.organizationId, s: record.seq, k: record.kind, t: record.collectedAtMs,
      r: storableReason(record.reason), p: record.payload,
    })))],
  );
}

/**
 * Copies ingest-log rows a sink could not write into quarantine, as the log holds them (the
 * time is read in SQL: a JavaScript Date cannot hold every timestamp). Idempotent per sink and
 * row, so a replayed batch quarantines nothing twice. Returns how many rows were new.
 */
export async function quarantineLogRows(db: SqlExecutor, sink: string, rows: readonly { id: number; reason: string }[]): Promise<number> {
  if (rows.length === 0) return 0;
  const { rowCount } = await db.query(
    `INSERT INTO ingest_quarantine (sink, log_id, device_id, organization_id, seq, kind, collected_at_ms, reason, payload)
     SELECT $1, l.id, l.device_id, l.organization_id, l.seq, l.kind,
            CASE WHEN isfinite(l.collected_at) THEN (extract(epoch FROM l.collected_at) * 1000)::bigint END, q.reason, l.payload
     FROM unnest($2::bigint[], $3::text[]) AS q(id, reason) JOIN ingest_log l ON l.id = q.id
     ON CONFLICT (sink, log_id) WHERE log_id IS NOT NULL DO NOTHING`,
    [sink, rows.map((row) => row.id), rows.map((row) => storableReason(row.reason))],
  );
  return rowCount;
}

/**
 * Sets aside rows of a log that is not a PostgreSQL table (JetStream): the row itself is
 * copied, `log_id` being its stream sequence. Idempotent per sink and row like the above.
 */
export async function quarantineRows(db: SqlExecutor, sink: string, rows: readonly { row: IngestRow; reason: string }[]): Promise<number> {
  if (rows.length === 0) return 0;
  const { rowCount } = await db.query(
    `INSERT INTO ingest_quarantine (sink, log_id, device_id, organization_id, seq, kind, collected_at_ms, reason, payload)
     SELECT $1, x.l, x.d, x.o, x.s, x.k, x.t, x.r, x.p
     FROM json_to_recordset($2::json) AS x(l bigint, d uuid, o uuid, s bigint, k text, t bigint, r text, p json)
     ON CONFLICT (sink, log_id) WHERE log_id IS NOT NULL DO NOTHING`,
    [sink, JSON.stringify(rows.map(({ row, reason }) => {
      const collectedAtMs = row.collectedAt.getTime();
      return {
        l: row.id, d: row.deviceId, o: row.organizationId, s: row.seq, k: row.kind,
        t: Number.isFinite(collectedAtMs) ? Math.trunc(collectedAtMs) : null, r: storableReason(reason), p: row.payload,
      };
    }))],
  );
  return rowCount;
}

/** One quarantined record as the console lists it. */
export interface QuarantinedRecord {
  id: number;
  sink: string;
  logId: number | null;
  deviceId: string;
  /** Null when the device no longer exists. */
  deviceName: string | null;
  seq: number;
  kind: string;
  /** The agent's collection time as sent (epoch ms); it may be no valid date at all. */
  collectedAtMs: number | null;
  reason: string;
  quarantinedAt: Date;
  /** The start of the payload as JSON text, and its full length. */
  payloadPreview: string;
  payloadChars: number;
}

/** An organization's quarantined records, newest first, optionally of one device and before an id (the previous page's last). */
export async function listQuarantine(db: SqlExecutor, query: {
  organizationId: string; deviceId?: string | undefined; beforeId?: number | undefined; limit: number; previewChars: number;
}): Promise<QuarantinedRecord[]> {
  const { rows } = await db.query<QuarantinedRecord>(
    `SELECT q.id, q.sink, q.log_id AS "logId", q.device_id AS "deviceId", d.name AS "deviceName", q.seq, q.kind,
            q.collected_at_ms AS "collectedAtMs", q.reason, q.quarantined_at AS "quarantinedAt",
            left(q.payload::text, $5) AS "payloadPreview", length(q.payload::text) AS "payloadChars"
     FROM ingest_quarantine q LEFT JOIN devices d ON d.id = q.device_id AND d.organization_id = q.organization_id
     WHERE q.organization_id = $1 AND ($2::uuid IS NULL OR q.device_id = $2::uuid) AND ($3::bigint IS NULL OR q.id < $3::bigint)
     ORDER BY q.id DESC LIMIT $4`,
    [query.organizationId, query.deviceId ?? null, query.beforeId ?? null, query.limit, query.previewChars],
  );
  return rows;
}

/** Deletes quarantined records older than the retention; returns how many went. */
export async function trimQuarantine(db: SqlExecutor, retentionDays: number): Promise<number> {
  const { rowCount } = await db.query(
    'DELETE FROM ingest_quarantine WHERE quarantined_at < NOW() - make_interval(days => $1)', [retentionDays]);
  return rowCount;
}

/**
 * How many records are set aside, per destination, counting at most `cap` of the newest (so the
 * count costs the same however large the table grew): a count equal to `cap` means "at least".
 * Of one organization, or of the whole server when `organizationId` is absent.
 */
export async function countQuarantine(db: SqlExecutor, query: { organizationId?: string | undefined; cap: number }): Promise<Map<string, number>> {
  // Two statements rather than one with `$1 IS NULL OR`: each gets the index that fits it.
  const { rows } = await db.query<{ sink: string; n: number }>(
    `SELECT sink, count(*)::int AS n FROM (
       SELECT sink FROM ingest_quarantine ${query.organizationId ? 'WHERE organization_id = $2' : ''} ORDER BY id DESC LIMIT $1
     ) newest GROUP BY sink`,
    query.organizationId ? [query.cap, query.organizationId] : [query.cap],
  );
  return new Map(rows.map((row) => [row.sink, Number(row.n)]));
}
