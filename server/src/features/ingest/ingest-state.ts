import type { SqlExecutor } from '../../stores/relational/index.ts';

/** The per-device sequence repository (`device_ingest_state`) for logs that live outside PostgreSQL. */

/** The highest logged sequence of each device; a device absent from the map is not enrolled here. */
export async function lastSequences(db: SqlExecutor, deviceIds: readonly string[]): Promise<Map<string, number>> {
  const { rows } = await db.query<{ deviceId: string; lastSeq: number }>(
    'SELECT device_id AS "deviceId", last_seq AS "lastSeq" FROM device_ingest_state WHERE device_id = ANY($1::uuid[])',
    [deviceIds],
  );
  return new Map(rows.map((row) => [row.deviceId, Number(row.lastSeq)]));
}

/** Moves each device's sequence forward (never back: two instances may advance one device at once). */
export async function advanceSequences(db: SqlExecutor, acks: readonly (readonly [string, number])[]): Promise<void> {
  if (acks.length === 0) return;
  await db.query(
    `UPDATE device_ingest_state s SET last_seq = v.seq
     FROM unnest($1::uuid[], $2::bigint[]) AS v(id, seq) WHERE s.device_id = v.id AND v.seq > s.last_seq`,
    [acks.map(([id]) => id), acks.map(([, seq]) => seq)],
  );
}
