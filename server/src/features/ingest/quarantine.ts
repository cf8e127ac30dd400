import { storableText } from '@ninjait/shared';
import { sql } from 'kysely';
import { typed, type SqlExecutor } from '../../stores/relational/index.ts';
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
  const json = JSON.stringify(records.map((record) => ({
    d: record.deviceId, o: record.organizationId, s: record.seq, k: record.kind, t: record.collectedAtMs,
    r: storableReason(record.reason), p: record.payload,
  })));
  await typed(tx).insertInto('ingestQuarantine')
    .columns(['sink', 'deviceId', 'organizationId', 'seq', 'kind', 'collectedAtMs', 'reason', 'payload'])
    .expression(sql`SELECT ${ARRIVAL_SINK}, d, o, s, k, t, r, p FROM json_to_recordset(${json}::json) AS x(d uuid, o uuid, s bigint, k text, t bigint, r text, p json)`)
    .execute();
}

/**
 * Copies ingest-log rows a sink could not write into quarantine, as the log holds them (the
 * time is read in SQL: a JavaScript Date cannot hold every timestamp). Idempotent per sink and
 * row, so a replayed batch quarantines nothing twice. Returns how many rows were new.
 */
export async function quarantineLogRows(db: SqlExecutor, sink: string, rows: readonly { id: number; reason: string }[]): Promise<number> {
  if (rows.length === 0) return 0;
  const result = await typed(db).insertInto('ingestQuarantine')
    .columns(['sink', 'logId', 'deviceId', 'organizationId', 'seq', 'kind', 'collectedAtMs', 'reason', 'payload'])
    .expression((eb) => eb
      .selectFrom(sql<{ id: number; reason: string }>`unnest(${rows.map((row) => row.id)}::bigint[], ${rows.map((row) => storableReason(row.reason))}::text[])`.as<'q'>(sql`q(id, reason)`))
      .innerJoin('ingestLog as l', 'l.id', 'q.id')
      .select((inner) => [
        sql<string>`${sink}`.as('sink'), 'l.id', 'l.deviceId', 'l.organizationId', 'l.seq', 'l.kind',
        sql<number | null>`CASE WHEN isfinite(${inner.ref('l.collectedAt')}) THEN (extract(epoch FROM ${inner.ref('l.collectedAt')}) * 1000)::bigint END`.as('collectedAtMs'),
        'q.reason', 'l.payload',
      ]))
    .onConflict((conflict) => conflict.columns(['sink', 'logId']).where('logId', 'is not', null).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0);
}

/**
 * Sets aside rows of a log that is not a PostgreSQL table (JetStream): the row itself is
 * copied, `log_id` being its stream sequence. Idempotent per sink and row like the above.
 */
export async function quarantineRows(db: SqlExecutor, sink: string, rows: readonly { row: IngestRow; reason: string }[]): Promise<number> {
  if (rows.length === 0) return 0;
  const json = JSON.stringify(rows.map(({ row, reason }) => {
    const collectedAtMs = row.collectedAt.getTime();
    return {
      l: row.id, d: row.deviceId, o: row.organizationId, s: row.seq, k: row.kind,
      t: Number.isFinite(collectedAtMs) ? Math.trunc(collectedAtMs) : null, r: storableReason(reason), p: row.payload,
    };
  }));
  const result = await typed(db).insertInto('ingestQuarantine')
    .columns(['sink', 'logId', 'deviceId', 'organizationId', 'seq', 'kind', 'collectedAtMs', 'reason', 'payload'])
    .expression(sql`SELECT ${sink}, x.l, x.d, x.o, x.s, x.k, x.t, x.r, x.p
      FROM json_to_recordset(${json}::json) AS x(l bigint, d uuid, o uuid, s bigint, k text, t bigint, r text, p json)`)
    .onConflict((conflict) => conflict.columns(['sink', 'logId']).where('logId', 'is not', null).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0);
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
  const { deviceId, beforeId } = query;
  return typed(db).selectFrom('ingestQuarantine as q')
    .leftJoin('devices as d', (join) => join.onRef('d.id', '=', 'q.deviceId').onRef('d.organizationId', '=', 'q.organizationId'))
    .select((eb) => [
      'q.id', 'q.sink', 'q.logId', 'q.deviceId', 'd.name as deviceName', 'q.seq', 'q.kind', 'q.collectedAtMs', 'q.reason', 'q.quarantinedAt',
      sql<string>`left(${eb.ref('q.payload')}::text, ${query.previewChars})`.as('payloadPreview'),
      sql<number>`length(${eb.ref('q.payload')}::text)`.as('payloadChars'),
    ])
    .where('q.organizationId', '=', query.organizationId)
    .$if(deviceId !== undefined, (q) => q.where('q.deviceId', '=', deviceId!))
    .$if(beforeId !== undefined, (q) => q.where('q.id', '<', beforeId!))
    .orderBy('q.id', 'desc').limit(query.limit)
    .execute();
}

/** Deletes quarantined records older than the retention; returns how many went. */
export async function trimQuarantine(db: SqlExecutor, retentionDays: number): Promise<number> {
  const result = await typed(db).deleteFrom('ingestQuarantine')
    .where('quarantinedAt', '<', sql<Date>`NOW() - make_interval(days => ${retentionDays})`).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/**
 * How many records are set aside, per destination, counting at most `cap` of the newest (so the
 * count costs the same however large the table grew): a count equal to `cap` means "at least".
 * Of one organization, or of the whole server when `organizationId` is absent.
 */
export async function countQuarantine(db: SqlExecutor, query: { organizationId?: string | undefined; cap: number }): Promise<Map<string, number>> {
  // Two statements rather than one with `$1 IS NULL OR`: each gets the index that fits it.
  const { organizationId } = query;
  const rows = await typed(db)
    .selectFrom((eb) => eb.selectFrom('ingestQuarantine').select('sink')
      .$if(organizationId !== undefined, (q) => q.where('organizationId', '=', organizationId!))
      .orderBy('id', 'desc').limit(query.cap).as('newest'))
    .select((eb) => ['sink', eb.cast<number>(eb.fn.countAll(), 'integer').as('n')])
    .groupBy('sink')
    .execute();
  return new Map(rows.map((row) => [row.sink, Number(row.n)]));
}
