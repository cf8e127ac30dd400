import type { RelationalStore } from '../../stores/relational/index.ts';
import type { CacheStore } from '../../stores/cache/index.ts';
import { createAsyncQueue } from '../../platform/trpc/async-queue.ts';
import { outputChannel } from './channels.ts';
import type { ChannelEvent } from './events.ts';
import { readOutput, readProgress } from './output-store.ts';
import { isFinal, type CommandResult, type OutputChunk, type OutputEvent } from './types.ts';

/** How often a waiting stream re-reads the row, in case a pub/sub message was lost. */
const RECHECK_MS = 5_000;
const PAGE_ROWS = 1_000;

/**
 * One command's output for a person: the chunks already stored, then live ones, in seq
 * order without duplicates, ending with the result. Works on any instance: live events come
 * through the cache's pub/sub, gaps are filled from the database. A command of another
 * organization (organizationId null = any) fails NOT_FOUND before anything is yielded.
 */
export async function* outputEvents(db: RelationalStore, cache: CacheStore, organizationId: string | null, commandId: string, signal?: AbortSignal): AsyncGenerator<OutputEvent> {
  const queue = createAsyncQueue<ChannelEvent | { type: 'recheck' }>(signal);
  // Subscribed before the first read, so nothing published after that read is missed.
  const unsubscribe = await cache.subscribe(outputChannel(commandId), (raw) => queue.push(JSON.parse(raw) as ChannelEvent));
  const timer = setInterval(() => queue.push({ type: 'recheck' }), RECHECK_MS);
  timer.unref();
  let lastSeq = -1;
  function* emit(chunks: OutputChunk[]): Generator<OutputEvent> {
    for (const chunk of chunks) {
      if (chunk.seq <= lastSeq) continue;
      lastSeq = chunk.seq;
      yield { type: 'chunk', ...chunk };
    }
  }
  async function* stored(): AsyncGenerator<OutputEvent> {
    for (;;) {
      const chunks = await readOutput(db, commandId, lastSeq, PAGE_ROWS);
      yield* emit(chunks);
      if (chunks.length < PAGE_ROWS) return;
    }
  }
  /** The row and the output after `lastSeq` in one read; true when it was final (the result went out). */
  async function* catchUp(first: boolean): AsyncGenerator<OutputEvent, boolean> {
    const { chunks, ...result } = await readProgress(db, organizationId, commandId, lastSeq, PAGE_ROWS);
    yield* emit(chunks);
    if (chunks.length === PAGE_ROWS) yield* stored();
    if (first) yield { type: 'status', status: result.status };
    if (!isFinal(result.status)) return false;
    yield { type: 'result', ...result };
    return true;
  }
  const finish = (event: CommandResult & { lastSeq?: number }): OutputEvent => {
    const { lastSeq: _lastSeq, ...result } = event;
    return { type: 'result', ...result };
  };
  try {
    if (yield* catchUp(true)) return;
    for await (const event of queue) {
      if (event.type === 'chunks') {
        // A gap means events went by before we subscribed or got lost: the database has them.
        if ((event.chunks[0]?.seq ?? 0) > lastSeq + 1) yield* stored();
        yield* emit(event.chunks);
      } else if (event.type === 'status') {
        yield event;
      } else if (event.type === 'result') {
        // Anything stored but not yet seen comes first (the event says how far output goes); the result ends the stream.
        if (event.lastSeq === undefined || event.lastSeq > lastSeq) yield* stored();
        yield finish(event);
        return;
      } else if (yield* catchUp(false)) {
        return;
      }
    }
  } finally {
    clearInterval(timer);
    await unsubscribe().catch(() => undefined);
  }
}
