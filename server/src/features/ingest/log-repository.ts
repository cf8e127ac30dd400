import { sql } from 'kysely';
import { anyBigint, typed, type SqlExecutor } from '../../stores/relational/index.ts';
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

/**
 * Appends records in one statement (all of them travel as one JSON parameter) and returns each
 * row's id and receive time. `json`, not `jsonb`: the payload is stored as sent and read back as
 * is, which cost the embedded database a third of the time jsonb's parse-and-rebuild did (bench: ingest).
 */
export async function insertLogRows(tx: SqlExecutor, records: readonly LogAppend[]) {
  if (records.length === 0) return [];
  return typed(tx).insertInto('ingestLog')
    .columns(['deviceId', 'organizationId', 'seq', 'kind', 'collectedAt', 'sourceIp', 'payload'])
    .expression(sql`SELECT d, o, s, k, to_timestamp(t / 1000.0), ip::inet, p
      FROM json_to_recordset(${JSON.stringify(records)}::json) AS r(d uuid, o uuid, s bigint, k text, t bigint, ip text, p json)`)
    .returning(['id', 'deviceId', 'seq', 'receivedAt'])
    .execute();
}

/** The ids after `after`, in order, at most `limit` (an index-only scan). */
export async function logIdsAfter(db: SqlExecutor, after: number, limit: number): Promise<number[]> {
  const rows = await typed(db).selectFrom('ingestLog').select('id').where('id', '>', after).orderBy('id').limit(limit).execute();
  return rows.map((row) => row.id);
}

/** These log rows, whole (in no particular order). */
export async function logRowsByIds(db: SqlExecutor, ids: readonly number[]): Promise<IngestRow[]> {
  return typed(db).selectFrom('ingestLog')
    .select((eb) => [
      'id', 'deviceId', 'organizationId', 'seq', 'kind', 'collectedAt', 'receivedAt',
      eb.fn<string | null>('host', ['sourceIp']).as('sourceIp'), 'payload',
    ])
    .where('id', '=', anyBigint(ids))
    .$castTo<IngestRow>()
    .execute();
}
