import type { RelationalStore, SqlExecutor } from '../stores/relational/index.ts';
import type { OutputChunk } from './types.ts';

export interface AppendResult {
  /** The chunks newly stored (cut to the cap), in seq order: what to publish live. */
  stored: OutputChunk[];
  truncated: boolean;
  /** False when the command is unknown to this device or already final. */
  accepted: boolean;
}

/** Cuts a string to at most `maxBytes` of UTF-8 without splitting a character. */
export function cutToBytes(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  let end = maxBytes;
  // Step back over UTF-8 continuation bytes (10xxxxxx) so the cut lands on a character boundary.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}

/**
 * Stores a batch of output chunks in order, once each (replays are skipped by seq), within
 * `maxBytes` per command: the chunk that crosses the cap is cut, later ones dropped, and the
 * command flagged truncated. The row lock serialises batches of one command.
 */
export async function appendOutput(
  db: RelationalStore,
  deviceId: string,
  commandId: string,
  chunks: readonly OutputChunk[],
  maxBytes: number,
): Promise<AppendResult> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ outputBytes: number; truncated: boolean; status: string }>(
      `SELECT output_bytes AS "outputBytes", output_truncated AS truncated, status FROM commands
       WHERE id = $1 AND device_id = $2 FOR UPDATE`,
      [commandId, deviceId],
    );
    const row = rows[0];
    if (!row || !['sent', 'running'].includes(row.status)) return { stored: [], truncated: row?.truncated ?? false, accepted: false };
    if (row.status === 'sent') {
      await tx.query(`UPDATE commands SET status = 'running', started_at = COALESCE(started_at, NOW()) WHERE id = $1`, [commandId]);
    }
    const seqs = chunks.map((chunk) => chunk.seq);
    const existing = new Set((await tx.query<{ seq: number }>(
      'SELECT seq FROM command_output WHERE command_id = $1 AND seq = ANY($2::int[])', [commandId, seqs])).rows.map((r) => r.seq));
    let budget = maxBytes - row.outputBytes;
    let truncated = row.truncated;
    const stored: OutputChunk[] = [];
    for (const chunk of [...chunks].sort((a, b) => a.seq - b.seq)) {
      if (existing.has(chunk.seq)) continue;
      existing.add(chunk.seq);
      if (budget <= 0) {
        truncated = true;
        continue;
      }
      const data = cutToBytes(chunk.data, budget);
      if (data.length < chunk.data.length) truncated = true;
      if (data.length === 0) continue;
      budget -= Buffer.byteLength(data, 'utf8');
      stored.push({ ...chunk, data });
    }
    if (stored.length > 0) {
      await tx.query(
        `INSERT INTO command_output (command_id, seq, stream, data)
         SELECT $1, c.seq, c.stream, c.data FROM jsonb_to_recordset($2::jsonb) AS c(seq int, stream text, data text)
         ON CONFLICT DO NOTHING`,
        [commandId, JSON.stringify(stored)],
      );
    }
    if (stored.length > 0 || truncated !== row.truncated) {
      await tx.query('UPDATE commands SET output_bytes = $2, output_truncated = $3 WHERE id = $1',
        [commandId, maxBytes - budget, truncated]);
    }
    return { stored, truncated, accepted: true };
  });
}

/** Stored output after `afterSeq`, in order. */
export async function readOutput(db: SqlExecutor, commandId: string, afterSeq = -1, limit = 10_000): Promise<OutputChunk[]> {
  const { rows } = await db.query<OutputChunk>(
    'SELECT seq, stream, data FROM command_output WHERE command_id = $1 AND seq > $2 ORDER BY seq LIMIT $3',
    [commandId, afterSeq, limit],
  );
  return rows;
}
