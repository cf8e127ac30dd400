import type { SqlExecutor } from '../../stores/relational/index.ts';
import { notFound } from '../../platform/errors.ts';
import { selectOutput, selectProgress } from './repository.ts';
import type { CommandResult, OutputChunk } from './types.ts';

/** Stored output after `afterSeq`, in order. */
export async function readOutput(db: SqlExecutor, commandId: string, afterSeq = -1, limit = 10_000): Promise<OutputChunk[]> {
  return selectOutput(db, commandId, afterSeq, limit);
}

/**
 * A command's result fields and its stored output after `afterSeq`, from one snapshot: when the
 * command is final here, every chunk it will ever have is in `chunks` (or the pages after it).
 * Another organization's command (organizationId null = any) is not found.
 */
export async function readProgress(db: SqlExecutor, organizationId: string | null, commandId: string, afterSeq: number, limit: number): Promise<CommandResult & { chunks: OutputChunk[] }> {
  const progress = await selectProgress(db, organizationId, commandId, afterSeq, limit);
  if (!progress) throw notFound('Command');
  return progress;
}
