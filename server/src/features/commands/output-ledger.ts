/** A command's output accounting as this instance last wrote it, and the next seq it expects. */
export interface OutputMark {
  outputBytes: number;
  truncated: boolean;
  /** No chunk at or above this seq is stored (as of `outputBytes`); the agent numbers chunks upwards. */
  nextSeq: number;
}

/** Marks kept at most: commands in flight on this instance's devices; older ones are read again. */
const DEFAULT_MAX_MARKS = 10_000;

/**
 * What this instance last wrote for each running command's output, so the next batch of the
 * same command needs no read first. Only a hint: every write still compares the row, and a
 * miss (another instance wrote, the command ended) falls back to reading it.
 */
export function createOutputLedger(maxMarks = DEFAULT_MAX_MARKS) {
  const marks = new Map<string, OutputMark>();
  return {
    get: (commandId: string) => marks.get(commandId),
    set(commandId: string, mark: OutputMark) {
      marks.delete(commandId);
      // Insertion order is age: the oldest mark goes first.
      if (marks.size >= maxMarks) marks.delete(marks.keys().next().value!);
      marks.set(commandId, mark);
    },
    delete: (commandId: string) => void marks.delete(commandId),
    get size() {
      return marks.size;
    },
  };
}
export type OutputLedger = ReturnType<typeof createOutputLedger>;
