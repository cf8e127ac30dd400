import type { RelationalStore } from '../../stores/relational/index.ts';

/**
 * Deletes log rows every drainer has passed. A sink that is down holds the log back:
 * that is the buffer that makes a store outage lose nothing.
 */
export async function trimIngestLog(db: RelationalStore, sinkNames: readonly string[], retentionSec = 0): Promise<number> {
  if (sinkNames.length === 0) return 0;
  const { rowCount } = await db.query(
    `DELETE FROM ingest_log WHERE id <= (
       SELECT CASE WHEN count(*) = $2 THEN min(position) ELSE 0 END FROM drain_cursors WHERE sink = ANY($1::text[]))
     AND received_at < NOW() - make_interval(secs => $3)`,
    [sinkNames, sinkNames.length, retentionSec],
  );
  return rowCount;
}

/** Rows not yet drained per sink, for the lag gauge. */
export async function drainerLagRows(db: RelationalStore): Promise<Map<string, number>> {
  const { rows } = await db.query<{ sink: string; lag: number }>(
    `SELECT c.sink, GREATEST(0, COALESCE((SELECT max(id) FROM ingest_log), 0) - c.position)::bigint AS lag FROM drain_cursors c`,
  );
  return new Map(rows.map((row) => [row.sink, row.lag]));
}
