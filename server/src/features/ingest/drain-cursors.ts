import { sql } from 'kysely';
import { compileOnce, msFromNow, typed, type SqlExecutor } from '../../stores/relational/index.ts';

/** The drainers' cursors (`drain_cursors`): one per sink, held by one instance at a time under a lease. */

/** Who holds a cursor, and for how long each take or move keeps it. */
export interface CursorHolder { sink: string; owner: string; leaseMs: number }


/** Takes (or renews) the sink's cursor when it is free, expired or already ours; its position, or null when another instance holds it. */
export async function takeCursor(db: SqlExecutor, holder: CursorHolder): Promise<number | null> {
  await typed(db).insertInto('drainCursors').values({ sink: holder.sink }).onConflict((conflict) => conflict.column('sink').doNothing()).execute();
  const row = await typed(db).updateTable('drainCursors')
    .set({ owner: holder.owner, leaseUntil: msFromNow(holder.leaseMs) })
    .where('sink', '=', holder.sink)
    .where((eb) => eb.or([eb('owner', '=', holder.owner), eb('owner', 'is', null), eb('leaseUntil', '<', sql<Date>`NOW()`)]))
    .returning('position')
    .executeTakeFirst();
  return row?.position ?? null;
}

// Placeholders in the order the statement binds them (compileOnce checks it). Compiled once: every drained batch moves a cursor.
const POSITION = -1;
const LEASE_MS = -2;
const SINK = '\u0000sink';
const OWNER = '\u0000owner';
const ADVANCE_CURSOR = compileOnce((db) => db.updateTable('drainCursors')
  .set({ position: POSITION, updatedAt: sql<Date>`NOW()`, leaseUntil: msFromNow(LEASE_MS) })
  .where('sink', '=', SINK).where('owner', '=', OWNER).where('position', '<', POSITION), [POSITION, LEASE_MS, SINK, OWNER, POSITION]);

/** Moves our cursor forward (never back) and renews the lease; false when we no longer hold it. */
export async function advanceCursor(db: SqlExecutor, holder: CursorHolder, position: number): Promise<boolean> {
  const result = await db.query(ADVANCE_CURSOR, [position, holder.leaseMs, holder.sink, holder.owner, position]);
  return result.rowCount > 0;
}

/** Lets go of our cursor, so another instance takes it at once rather than when the lease runs out. */
export async function releaseCursor(db: SqlExecutor, holder: Pick<CursorHolder, 'sink' | 'owner'>): Promise<void> {
  await typed(db).updateTable('drainCursors').set({ owner: null, leaseUntil: null })
    .where('sink', '=', holder.sink).where('owner', '=', holder.owner)
    .execute();
}
