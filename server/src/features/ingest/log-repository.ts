import { sql } from 'kysely';
import { anyBigint, compileOnce, typed, type Db, type SqlExecutor } from '../../stores/relational/index.ts';
import type { IngestRow } from './sinks/types.ts';

/** The ingest log's repository (`ingest_log`): appends, and what the drainers read. */

// Every instance appends under this lock, so log ids become visible in commit order and a
// drainer reading `id > cursor` can never skip a row that commits late.
const APPEND_LOCK_KEY = 7_310_002;

/** Takes the append lock for this transaction (released at COMMIT on the same connection: safe behind PgBouncer's transaction pooling). */
export async function lockAppends(tx: SqlExecutor): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(${APPEND_LOCK_KEY})`.execute(typed(tx));
}

/** One record to append, in the short keys of the JSON the insert reads (the payload is most of its size). */
export interface LogAppend { d: string; o: string; s: number; k: string; t: number; ip: string | null; p: unknown }

// The statements every push and every drainer read runs, compiled once (stores/relational/kysely.ts
// compileOnce): rows come back with their snake_case column names and are mapped here.
const JSON_ROWS = '\u0000records';
const AFTER = -1;
const LIMIT = -2;
const LOG_IDS: number[] = [];

/**
 * `json`, not `jsonb`: the payload is stored as sent and read back as is, which cost the
 * embedded database a third of the time jsonb's parse-and-rebuild did (bench: ingest).
 */
const INSERT_LOG_ROWS = compileOnce((db) => db.insertInto('ingestLog')
  .columns(['deviceId', 'organizationId', 'seq', 'kind', 'collectedAt', 'sourceIp', 'payload'])
  .expression(sql`SELECT d, o, s, k, to_timestamp(t / 1000.0), ip::inet, p
    FROM json_to_recordset(${JSON_ROWS}::json) AS r(d uuid, o uuid, s bigint, k text, t bigint, ip text, p json)`)
  .returning(['id', 'deviceId', 'seq', 'receivedAt']), [JSON_ROWS]);

const LOG_IDS_AFTER = compileOnce((db) => db.selectFrom('ingestLog').select('id').where('id', '>', AFTER).orderBy('id').limit(LIMIT), [AFTER, LIMIT]);

/** Milliseconds since the epoch, cut as the drivers cut a timestamp's microseconds when they parse one into a Date. */
const epochMs = (column: 'collectedAt' | 'receivedAt') => sql<number>`floor(extract(epoch from ${sql.ref(column)}) * 1000)::int8`;

/**
 * Every column of a log row; `host()` gives the address without its /32 mask. Times travel as
 * numbers: parsing two timestamp strings per row was a twentieth of a drain's CPU (bench: drain).
 * The payload travels as text and is parsed at each read of it (`ingestRow`).
 */
const logRows = (db: Db) => db.selectFrom('ingestLog')
  .select((eb) => [
    'id', 'deviceId', 'organizationId', 'seq', 'kind', epochMs('collectedAt').as('collectedAtMs'), epochMs('receivedAt').as('receivedAtMs'),
    eb.fn<string | null>('host', ['sourceIp']).as('sourceIp'), sql<string>`${sql.ref('payload')}::text`.as('payload'),
  ]);

const LOG_ROWS_BY_IDS = compileOnce((db) => logRows(db).where('id', '=', anyBigint(LOG_IDS)), [LOG_IDS]);

const LOG_ROWS_AFTER = compileOnce((db) => logRows(db).where('id', '>', AFTER).orderBy('id').limit(LIMIT), [AFTER, LIMIT]);

/**
 * The same rows as one JSON text (an array of objects keyed like LogRowColumns): PGlite's client
 * decodes a result field by field on the server's thread (a quarter of a drain's profile); one
 * value and one JSON.parse read 10,000-row batches 2.5-4× faster in a read-only loop, though a
 * whole ClickHouse drain gains only ~12 % CPU per row (the sink and chdb take the rest).
 * PostgreSQL builds the aggregate in its one backend instead and is 2-3× slower this way.
 */
const LOG_ROWS_AFTER_AS_JSON = compileOnce((db) => db
  .selectFrom(logRows(db).where('id', '>', AFTER).orderBy('id').limit(LIMIT).as('l'))
  .select(sql<string>`coalesce(json_agg(l ORDER BY l.id), '[]')::text`.as('rows')), [AFTER, LIMIT]);

/** Appends records in one statement (all of them travel as one JSON parameter) and returns each row's id and receive time. */
export async function insertLogRows(tx: SqlExecutor, records: readonly LogAppend[]) {
  if (records.length === 0) return [];
  const { rows } = await tx.query<{ id: number; device_id: string; seq: number; received_at: Date }>(INSERT_LOG_ROWS, [JSON.stringify(records)]);
  return rows.map((row) => ({ id: row.id, deviceId: row.device_id, seq: row.seq, receivedAt: row.received_at }));
}

/** The ids after `after`, in order, at most `limit` (an index-only scan). */
export async function logIdsAfter(db: SqlExecutor, after: number, limit: number): Promise<number[]> {
  const { rows } = await db.query<{ id: number }>(LOG_IDS_AFTER, [after, limit]);
  return rows.map((row) => row.id);
}

/** A log row as the statement returns it, its payload still JSON text. */
interface LogRowColumns {
  id: number; device_id: string; organization_id: string; seq: number; kind: string;
  collected_at_ms: number; received_at_ms: number; source_ip: string | null; payload: string;
}

/**
 * The row with its payload parsed at each read and not kept. Most sinks read only each device's
 * newest payload of a batch (cache, relational) or none (alerts without rules); the ClickHouse
 * sink reads each once and keeps only the numbers it derives. Rows wait in the reader's memory
 * for the drainers behind, so a parsed payload kept on them outlived the young generation:
 * parsing every payload up front was a fifth of a drain's CPU, and copying the survivors a
 * quarter more (bench: drain --profile, --trace-gc). Callers read `payload` once per row.
 */
function ingestRow(row: LogRowColumns): IngestRow {
  const text = row.payload;
  return {
    id: row.id, deviceId: row.device_id, organizationId: row.organization_id, seq: row.seq, kind: row.kind,
    collectedAt: new Date(row.collected_at_ms), receivedAt: new Date(row.received_at_ms), sourceIp: row.source_ip,
    get payload() {
      return JSON.parse(text);
    },
  } as IngestRow;
}

/** These log rows, whole (in no particular order). */
export async function logRowsByIds(db: SqlExecutor, ids: readonly number[]): Promise<IngestRow[]> {
  const { rows } = await db.query<LogRowColumns>(LOG_ROWS_BY_IDS, [ids]);
  return rows.map(ingestRow);
}

/**
 * The rows after `after`, whole, in order, at most `limit` (one range scan of the primary key);
 * `asOneJson` has the database send them as one value (see LOG_ROWS_AFTER_AS_JSON: for PGlite).
 */
export async function logRowsAfter(db: SqlExecutor, after: number, limit: number, { asOneJson = false } = {}): Promise<IngestRow[]> {
  if (!asOneJson) {
    const { rows } = await db.query<LogRowColumns>(LOG_ROWS_AFTER, [after, limit]);
    return rows.map(ingestRow);
  }
  const { rows: [result] } = await db.query<{ rows: string }>(LOG_ROWS_AFTER_AS_JSON, [after, limit]);
  return (JSON.parse(result?.rows ?? '[]') as LogRowColumns[]).map(ingestRow);
}
