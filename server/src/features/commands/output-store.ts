import type { SqlExecutor } from '../../stores/relational/index.ts';
import { notFound } from '../../platform/errors.ts';
import type { CommandResult, OutputChunk } from './types.ts';

/** Stored output after `afterSeq`, in order. */
export async function readOutput(db: SqlExecutor, commandId: string, afterSeq = -1, limit = 10_000): Promise<OutputChunk[]> {
  const { rows } = await db.query<OutputChunk>(
    'SELECT seq, stream, data FROM command_output WHERE command_id = $1 AND seq > $2 ORDER BY seq LIMIT $3',
    [commandId, afterSeq, limit],
  );
  return rows;
}

/**
 * A command's result fields and its stored output after `afterSeq`, from one snapshot: when the
 * command is final here, every chunk it will ever have is in `chunks` (or the pages after it).
 * Another organization's command (organizationId null = any) is not found.
 */
export async function readProgress(db: SqlExecutor, organizationId: string | null, commandId: string, afterSeq: number, limit: number): Promise<CommandResult & { chunks: OutputChunk[] }> {
  const { rows } = await db.query<CommandResult & { chunks: OutputChunk[] }>(
    `SELECT status, exit_code AS "exitCode", error, output_bytes AS "outputBytes", output_truncated AS "outputTruncated",
       COALESCE((SELECT json_agg(o ORDER BY o.seq) FROM (
         SELECT seq, stream, data FROM command_output WHERE command_id = c.id AND seq > $3 ORDER BY seq LIMIT $4) o), '[]'::json) AS chunks
     FROM commands c WHERE id = $1 AND ($2::uuid IS NULL OR organization_id = $2)`,
    [commandId, organizationId, afterSeq, limit],
  );
  if (!rows[0]) throw notFound('Command');
  return rows[0];
}
