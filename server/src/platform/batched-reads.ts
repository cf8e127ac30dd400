/** How one batch of keys is read: a value for each key found (keys left out have none). */
export type ReadAll<K, V> = (keys: readonly K[]) => Promise<ReadonlyMap<K, V>>;

export interface BatchedReadOptions {
  /** How long the first key of a batch waits for others to join it. */
  windowMs: number;
  /** Keys one read carries at most: a full batch is read at once. */
  maxKeys: number;
}

/**
 * Reads of single keys that arrive within `windowMs` of each other go to the store as one: at
 * 10,000 agents each asking for its own row once a minute, that is a few statements a second
 * instead of 167 single-row ones, each a round trip through the pool and the event loop. A key
 * asked for twice in one batch is read once. A failed read fails every key of its batch.
 */
export function createBatchedReads<K, V>(readAll: ReadAll<K, V>, options: BatchedReadOptions) {
  let waiting = new Map<K, { resolve: (value: V | undefined) => void; reject: (error: unknown) => void }[]>();
  let timer: NodeJS.Timeout | null = null;

  function flush(): void {
    if (timer) clearTimeout(timer);
    timer = null;
    const batch = waiting;
    waiting = new Map();
    readAll([...batch.keys()]).then((values) => {
      for (const [key, callers] of batch) for (const caller of callers) caller.resolve(values.get(key));
    }, (error: unknown) => {
      for (const callers of batch.values()) for (const caller of callers) caller.reject(error);
    });
  }

  return {
    /** The key's value, or undefined when the store has none. */
    read(key: K): Promise<V | undefined> {
      return new Promise((resolve, reject) => {
        const callers = waiting.get(key);
        if (callers) callers.push({ resolve, reject });
        else waiting.set(key, [{ resolve, reject }]);
        if (waiting.size >= options.maxKeys) flush();
        else timer ??= setTimeout(flush, options.windowMs);
      });
    },
  };
}
