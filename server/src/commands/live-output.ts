import type { RelationalStore } from '../stores/relational/index.ts';
import type { CacheStore } from '../stores/cache/index.ts';
import { createAsyncQueue } from './async-queue.ts';
import { outputChannel } from './channels.ts';
import { resultOf, type ChannelEvent } from './events.ts';
import { readOutput } from './output-store.ts';
import { getCommand } from './repository.ts';
import { isFinal, type OutputEvent } from './types.ts';

/** How often a waiting stream re-reads the row, in case a pub/sub message was lost. */
const RECHECK_MS = 5_000;
const PAGE_ROWS = 1_000;

/**
 * One command's output for a person: the chunks already stored, then live ones, in seq
 * order without duplicates, ending with the result. Works on any instance: live events come
 * through the cache's pub/sub, gaps are filled from the database.
 * The caller has checked that the command belongs to the person's organization.
 */
export async function* outputEvents(db: RelationalStore, cache: CacheStore, commandId: string, signal?: AbortSignal): AsyncGenerator<OutputEvent> {
  const queue = createAsyncQueue<ChannelEvent | { type: 'recheck' }>(signal);
  const unsubscribe = await cache.subscribe(outputChannel(commandId), (raw) => queue.push(JSON.parse(raw) as ChannelEvent));
  const timer = setInterval(() => queue.push({ type: 'recheck' }), RECHECK_MS);
  timer.unref();
  let lastSeq = -1;
  async function* stored(): AsyncGenerator<OutputEvent> {
    for (;;) {
      const chunks = await readOutput(db, commandId, lastSeq, PAGE_ROWS);
      for (const chunk of chunks) {
        lastSeq = chunk.seq;
        yield { type: 'chunk', ...chunk };
      }
      if (chunks.length < PAGE_ROWS) return;
    }
  }
  async function* finishIfFinal(): AsyncGenerator<OutputEvent, boolean> {
    const command = await getCommand(db, null, commandId);
    if (!isFinal(command.status)) return false;
    yield* stored();
    yield { type: 'result', ...resultOf(command) };
    return true;
  }
  try {
    yield* stored();
    const command = await getCommand(db, null, commandId);
    yield { type: 'status', status: command.status };
    if (yield* finishIfFinal()) return;
    for await (const event of queue) {
      if (event.type === 'chunks') {
        // A gap means events went by before we subscribed or got lost: the database has them.
        if ((event.chunks[0]?.seq ?? 0) > lastSeq + 1) yield* stored();
        for (const chunk of event.chunks) {
          if (chunk.seq <= lastSeq) continue;
          lastSeq = chunk.seq;
          yield { type: 'chunk', ...chunk };
        }
      } else if (event.type === 'status') {
        yield event;
      } else if (event.type === 'result') {
        // Anything stored but not yet seen comes first; the result always ends the stream.
        yield* stored();
        const { type: _type, ...result } = event;
        yield { type: 'result', ...result };
        return;
      } else if (yield* finishIfFinal()) {
        return;
      }
    }
  } finally {
    clearInterval(timer);
    await unsubscribe().catch(() => undefined);
  }
}
