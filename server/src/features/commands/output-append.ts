import type { RelationalStore, SqlExecutor } from '../../stores/relational/index.ts';
import type { OutputLedger, OutputMark } from './output-ledger.ts';
import { selectOutputState, writeOutputIfUnchanged, type OutputWrite } from './repository.ts';
import type { OutputChunk } from './types.ts';

export interface AppendResult {
  /** The chunks newly stored (cut to the cap), in seq order: what to publish live. */
  stored: OutputChunk[];
  truncated: boolean;
  /** False when the command is unknown to this device or already final. */
  accepted: boolean;
}

/** The row's accounting as read, with which of the batch's seqs are stored already. */
interface OutputState {
  status: string;
  outputBytes: number;
  truncated: boolean;
  existing: number[];
  /** The highest seq stored (-1: none): a ledger mark must start above every stored chunk. */
  maxSeq: number;
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

/** Which chunks of a batch to store within the byte budget, in seq order, skipping seqs already stored. */
export function planAppend(state: Pick<OutputState, 'outputBytes' | 'truncated' | 'existing'>, chunks: readonly OutputChunk[], maxBytes: number) {
  const existing = new Set(state.existing);
  let budget = maxBytes - state.outputBytes;
  let truncated = state.truncated;
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
  return { stored, truncated, outputBytes: maxBytes - budget };
}

async function readState(db: SqlExecutor, deviceId: string, commandId: string, seqs: number[], lock: boolean): Promise<OutputState | null> {
  return (await selectOutputState(db, deviceId, commandId, seqs, lock)) ?? null;
}

/**
 * Writes one command's output if its row is unchanged (see `writeOutputIfUnchanged`); false when
 * another writer won. The delivery passes a group commit, so many devices' batches share a statement.
 */
export type OutputWriter = (write: OutputWrite) => Promise<boolean>;

/** The write alone, in the caller's transaction or outside one. */
const writeAlone = (db: SqlExecutor): OutputWriter => async (write) => (await writeOutputIfUnchanged(db, [write])).has(write.commandId);

/**
 * The write of a batch as this instance's ledger says the row is, with no read; null when the
 * ledger cannot say (no mark, or seqs below its `nextSeq`, which may be stored already). The
 * mark's bytes unchanged means nobody else stored anything since, so seqs from its `nextSeq` on
 * are new; any other writer changed the bytes and the write misses.
 */
export function writeFromMark(ledger: OutputLedger, deviceId: string, commandId: string, chunks: readonly OutputChunk[], maxBytes: number):
  (OutputWrite & { storedBelow: number }) | null {
  const mark = ledger.get(commandId);
  if (!mark || Math.min(...chunks.map((chunk) => chunk.seq)) < mark.nextSeq) return null;
  const { outputBytes, truncated } = mark;
  return { deviceId, commandId, expected: { outputBytes, truncated }, next: planAppend({ ...mark, existing: [] }, chunks, maxBytes), storedBelow: mark.nextSeq };
}

/**
 * Stores a batch of output chunks in order, once each (replays are skipped by seq), within
 * `maxBytes` per command: the chunk that crosses the cap is cut, later ones dropped, and the
 * command flagged truncated. The first chunk moves a `sent` command to `running`.
 *
 * Optimistic first: the row's accounting is read, then written back only if unchanged (every
 * stored chunk adds bytes, so a batch that raced another misses). When `ledger` holds what this
 * instance last wrote and the batch is all new seqs, even the read is skipped. A miss (another
 * instance wrote, or the ledger was stale) is redone under the row's lock, which cannot miss.
 *
 * `live` gets exactly the chunks stored, and only once the device-scoped write committed: a chunk
 * sent for a command that is not this device's (or is final) is never shown to anyone, and cannot
 * take the seq of the genuine chunk in a viewer's stream. The caller acknowledges the batch only
 * once this resolves (durable); if the write fails the agent sends the batch again.
 */
export async function appendOutput(
  db: RelationalStore,
  ledger: OutputLedger,
  deviceId: string,
  commandId: string,
  chunks: readonly OutputChunk[],
  maxBytes: number,
  live: (stored: OutputChunk[]) => Promise<void> = async () => undefined,
  /** How the batch is written when the ledger says its row is unchanged: the common case, worth grouping. */
  writeNew: OutputWriter = writeAlone(db),
): Promise<AppendResult> {
  const seqs = chunks.map((chunk) => chunk.seq);
  const batchNextSeq = Math.max(...seqs) + 1;
  /** Writes if the row still is `expected`; `storedBelow`: every chunk stored before is below this seq. */
  const write = async (writer: OutputWriter, expected: Pick<OutputMark, 'outputBytes' | 'truncated'>, plan: ReturnType<typeof planAppend>, storedBelow: number) => {
    const { outputBytes, truncated } = expected;
    if (!(await writer({ deviceId, commandId, expected: { outputBytes, truncated }, next: plan }))) return null;
    ledger.set(commandId, { outputBytes: plan.outputBytes, truncated: plan.truncated, nextSeq: Math.max(storedBelow, batchNextSeq) });
    return { stored: plan.stored, truncated: plan.truncated, accepted: true };
  };
  const attempt = async (tx: SqlExecutor, lock: boolean): Promise<AppendResult | null> => {
    const state = await readState(tx, deviceId, commandId, seqs, lock);
    // Not this device's command: refused without touching the mark the real device's output uses.
    if (!state) return { stored: [], truncated: false, accepted: false };
    if (state.status !== 'sent' && state.status !== 'running') {
      ledger.delete(commandId);
      return { stored: [], truncated: state.truncated, accepted: false };
    }
    const plan = planAppend(state, chunks, maxBytes);
    if (plan.stored.length === 0 && plan.truncated === state.truncated && state.status === 'running') {
      ledger.set(commandId, { outputBytes: state.outputBytes, truncated: state.truncated, nextSeq: Math.max(state.maxSeq + 1, batchNextSeq) });
      return { stored: [], truncated: state.truncated, accepted: true };
    }
    return write(writeAlone(tx), state, plan, state.maxSeq + 1);
  };

  const fromMark = writeFromMark(ledger, deviceId, commandId, chunks, maxBytes);
  const fast = fromMark ? await write(writeNew, fromMark.expected, fromMark.next, fromMark.storedBelow) : null;
  const done = fast ?? (await attempt(db, false)) ?? (await db.transaction((tx) => attempt(tx, true)));
  if (!done) throw new Error(`Output for command ${commandId} missed its own row lock`);
  // After the commit (the locked attempt's too), and only what this device's write stored.
  if (done.stored.length > 0) await live(done.stored);
  return done;
}
