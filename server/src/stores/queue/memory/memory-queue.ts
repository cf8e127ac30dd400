import { backoffMs } from '@ninjait/shared';
import { workId, type EnqueueOptions, type TargetHandler, type TargetWork, type WorkQueue } from '../types.ts';

/** setTimeout's longest delay; a later retry would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Item {
  work: TargetWork;
  options: EnqueueOptions;
  attempt: number;
}

/** The embedded default: a FIFO with a concurrency limit, retries with exponential backoff, in this process. */
export function createMemoryQueue(): WorkQueue {
  const waiting: Item[] = [];
  const known = new Set<string>();
  const retryTimers = new Set<NodeJS.Timeout>();
  const inFlight = new Set<Promise<void>>();
  const stopping = new AbortController();
  let handler: TargetHandler | null = null;
  let limit = 1;

  const pump = () => {
    while (handler && !stopping.signal.aborted && inFlight.size < limit && waiting.length > 0) {
      const item = waiting.shift()!;
      const run = handler(item.work, item.attempt, stopping.signal).then(
        () => void known.delete(workId(item.work)),
        () => {
          if (item.attempt >= item.options.attempts || stopping.signal.aborted) return void known.delete(workId(item.work));
          const timer = setTimeout(() => {
            retryTimers.delete(timer);
            waiting.push({ ...item, attempt: item.attempt + 1 });
            pump();
          }, backoffMs(item.attempt - 1, { baseMs: item.options.backoffMs, maxMs: MAX_TIMER_MS, jitter: 'none' }));
          retryTimers.add(timer);
        },
      ).finally(() => {
        inFlight.delete(run);
        pump();
      });
      inFlight.add(run);
    }
  };

  const enqueue = (work: TargetWork, options: EnqueueOptions) => {
    if (known.has(workId(work))) return;
    known.add(workId(work));
    waiting.push({ work, options, attempt: 1 });
  };

  return {
    engine: 'memory',
    async add(work, options) {
      enqueue(work, options);
      pump();
    },
    async addMany(works, options) {
      for (const work of works) enqueue(work, options);
      pump();
    },
    start(next, concurrency) {
      handler = next;
      limit = concurrency;
      pump();
    },
    async close() {
      stopping.abort();
      for (const timer of retryTimers) clearTimeout(timer);
      await Promise.allSettled([...inFlight]);
    },
  };
}
