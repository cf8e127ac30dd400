import { sql } from 'kysely';
import { anyUuid, compileOnce, typed, type SqlExecutor } from '../../stores/relational/index.ts';

/** The per-device sequence repository (`device_ingest_state`): what each device's pushes have logged so far. */

/** The highest logged sequence of each device; a device absent from the map is not enrolled here. */
export async function lastSequences(db: SqlExecutor, deviceIds: readonly string[]): Promise<Map<string, number>> {
  const rows = await typed(db).selectFrom('deviceIngestState').select(['deviceId', 'lastSeq']).where('deviceId', '=', anyUuid(deviceIds)).execute();
  return new Map(rows.map((row) => [row.deviceId, Number(row.lastSeq)]));
}

// The group commit's two statements, compiled once (stores/relational/kysely.ts compileOnce): they run on every commit.
const IDS: string[] = [];
const SEQS: number[] = [];
const LOCK_SEQUENCES = compileOnce((db) => db.selectFrom('deviceIngestState').select(['deviceId', 'lastSeq'])
  .where('deviceId', '=', anyUuid(IDS)).forUpdate(), [IDS]);
const ADVANCE_SEQUENCES = compileOnce((db) => db.updateTable('deviceIngestState as s')
  .from(sql<{ id: string; seq: number }>`unnest(${IDS}::uuid[], ${SEQS}::bigint[])`.as<'v'>(sql`v(id, seq)`))
  .set((eb) => ({ lastSeq: eb.ref('v.seq') }))
  .whereRef('s.deviceId', '=', 'v.id').whereRef('v.seq', '>', 's.lastSeq'), [IDS, SEQS]);

/** The same, each device's row locked to the commit: the ingest log's appends of one device take turns. */
export async function lockSequences(tx: SqlExecutor, deviceIds: readonly string[]): Promise<Map<string, number>> {
  const { rows } = await tx.query<{ device_id: string; last_seq: number }>(LOCK_SEQUENCES, [deviceIds]);
  return new Map(rows.map((row) => [row.device_id, Number(row.last_seq)]));
}

/** Moves each device's sequence forward (never back: two instances may advance one device at once). */
export async function advanceSequences(db: SqlExecutor, acks: readonly (readonly [string, number])[]): Promise<void> {
  if (acks.length === 0) return;
  await db.query(ADVANCE_SEQUENCES, [acks.map(([id]) => id), acks.map(([, seq]) => seq)]);
}

// Placeholders in the order the statement binds them (compileOnce checks it). Compiled once: the
// first heartbeat of every connection runs it, tens of thousands after a server restart.
const HEARTBEAT_DEVICE = '\u0000device';
const INTERVAL_MS = -1;
const AGENT_VERSION = '\u0000version';
const DROPPED_TOTAL = -2;
const RECORD_HEARTBEAT = compileOnce((db) => db
  .with('before', (q) => q.selectFrom('devices').select('droppedTotal').where('id', '=', HEARTBEAT_DEVICE))
  .with('changed', (q) => q.updateTable('devices as d')
    .set((eb) => ({ reportIntervalMs: INTERVAL_MS, agentVersion: AGENT_VERSION, droppedTotal: eb.fn('greatest', ['d.droppedTotal', eb.val(DROPPED_TOTAL)]) }))
    .where('d.id', '=', HEARTBEAT_DEVICE)
    .where((eb) => eb.or([
      eb('d.reportIntervalMs', '<>', INTERVAL_MS), eb('d.agentVersion', 'is distinct from', AGENT_VERSION), eb('d.droppedTotal', '<', DROPPED_TOTAL),
    ]))
    .returning(sql.lit(1).as('one')))
  .selectNoFrom((eb) => [
    eb.selectFrom('before').select('droppedTotal').where(({ exists, selectFrom }) => exists(selectFrom('changed').select('one'))).$asScalar().as('previous'),
    eb.selectFrom('deviceIngestState').select('lastSeq').where('deviceId', '=', HEARTBEAT_DEVICE).$asScalar().as('lastSeq'),
  ]), [HEARTBEAT_DEVICE, INTERVAL_MS, AGENT_VERSION, DROPPED_TOTAL, HEARTBEAT_DEVICE, INTERVAL_MS, AGENT_VERSION, DROPPED_TOTAL, HEARTBEAT_DEVICE]);

/**
 * Records an agent's heartbeat settings (only when one changed) and reads its logged sequence, in
 * one round trip. `previous` is its dropped-record count before the change (null: nothing changed).
 */
export async function recordHeartbeat(db: SqlExecutor, deviceId: string, agent: { intervalMs: number; agentVersion: string; droppedTotal: number }) {
  const { intervalMs, agentVersion, droppedTotal } = agent;
  const { rows: [row] } = await db.query<{ previous: number | string | null; last_seq: number | string | null }>(RECORD_HEARTBEAT,
    [deviceId, intervalMs, agentVersion, droppedTotal, deviceId, intervalMs, agentVersion, droppedTotal, deviceId]);
  // bigint columns: node-postgres reads them as text, PGlite as numbers.
  return row ? { previous: row.previous === null ? null : Number(row.previous), lastSeq: row.last_seq === null ? null : Number(row.last_seq) } : undefined;
}
