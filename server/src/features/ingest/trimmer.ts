import { sql } from 'kysely';
import { anyText, secondsAgo, typed, type RelationalStore } from '../../stores/relational/index.ts';

/**
 * Deletes log rows every drainer has passed. A sink that is down holds the log back:
 * that is the buffer that makes a store outage lose nothing.
 */
export async function trimIngestLog(db: RelationalStore, sinkNames: readonly string[], retentionSec = 0): Promise<number> {
  if (sinkNames.length === 0) return 0;
  const result = await typed(db).deleteFrom('ingestLog')
    // Up to the slowest cursor, and nothing while some sink has no cursor yet (it starts from the beginning).
    .where('id', '<=', (eb) => eb.selectFrom('drainCursors')
      .select((inner) => inner.case().when(inner.fn.countAll(), '=', sinkNames.length).then(inner.fn.min('position')).else(0).end().as('upTo'))
      .where('sink', '=', anyText(sinkNames)))
    .where('receivedAt', '<', secondsAgo(retentionSec))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Rows not yet drained per sink, for the lag gauge. */
export async function drainerLagRows(db: RelationalStore): Promise<Map<string, number>> {
  const rows = await typed(db).selectFrom('drainCursors as c')
    .select((eb) => [
      'c.sink',
      sql<number>`GREATEST(0, COALESCE(${eb.selectFrom('ingestLog').select((inner) => inner.fn.max('id').as('last'))}, 0) - ${eb.ref('c.position')})::bigint`.as('lag'),
    ])
    .execute();
  return new Map(rows.map((row) => [row.sink, row.lag]));
}
