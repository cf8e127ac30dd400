/** How one batch is read: a value for each item, in the items' order. */
export type ReadAll<I, V> = (items: readonly I[]) => Promise<readonly V[]>;

export interface BatchedReadOptions<I> {
  /** Items with the same key are the same read: one of them goes to the store, every caller gets its value. */
  key(item: I): string;
  /** How long the first item of a batch waits for others to join it. */
  windowMs: number;
  /** Distinct items one read carries at most: a full batch is read at once. */
  maxKeys: number;
}

interface Waiting<I, V> {
  item: I;
  callers: { resolve: (value: V) => void; reject: (error: unknown) => void }[];
}

/**
 * Reads of single items that arrive within `windowMs` of each other go to the store as one: at
 * 10,000 agents each asking for its own row once a minute, that is a few statements a second
 * instead of 167 single-row ones, each a round trip through the pool and the event loop. An item
 * asked for twice in one batch is read once. A failed read fails every caller of its batch.
 */
export function createBatchedReads<I, V>(readAll: ReadAll<I, V>, options: BatchedReadOptions<I>) {
  let waiting = new Map<string, Waiting<I, V>>();
  let timer: NodeJS.Timeout | null = null;

  function flush(): void {
    if (timer) clearTimeout(timer);
    timer = null;
    const batch = [...waiting.values()];
    waiting = new Map();
    readAll(batch.map((entry) => entry.item)).then((values) => {
      batch.forEach((entry, i) => entry.callers.forEach((caller) => caller.resolve(values[i]!)));
    }, (error: unknown) => {
      for (const entry of batch) for (const caller of entry.callers) caller.reject(error);
    });
  }

  return {
    /** The item's value, as `readAll` answers it in a batch. */
    read(item: I): Promise<V> {
      return new Promise((resolve, reject) => {
        const key = options.key(item);
        const entry = waiting.get(key);
        if (entry) entry.callers.push({ resolve, reject });
        else waiting.set(key, { item, callers: [{ resolve, reject }] });
        if (waiting.size >= options.maxKeys) flush();
        else timer ??= setTimeout(flush, options.windowMs);
      });
    },
  };
}
