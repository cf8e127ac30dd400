/** How one group is written: a value for each item, in the items' order. */
export type CommitGroup<I, V> = (items: readonly I[]) => Promise<readonly V[]>;

export interface GroupCommitOptions<I> {
  /**
   * Items with the same key never share a group: a later one waits for the next (two reports of
   * one command in one statement would be one row updated twice, and one caller told wrong).
   */
  key(item: I): string;
  /**
   * How long the first item waits for others when no group is being written; 0: only for what
   * arrives in the same task (under load, groups form while one is written).
   */
  windowMs: number;
  /** Items one group carries at most. */
  maxItems: number;
}

interface Waiting<I, V> {
  item: I;
  resolve: (value: V) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for single-item writes: items that arrive while a group is written (or within
 * `windowMs` of the first) are written together as the next group, one group at a time, so a
 * burst of a thousand agents' reports costs a few statements instead of a thousand transactions,
 * and a quiet moment adds at most `windowMs`. Each caller waits for its own item's value. A failed
 * group is written again item by item: one item the store refuses takes no other with it.
 */
export function createGroupCommit<I, V>(commit: CommitGroup<I, V>, options: GroupCommitOptions<I>) {
  let waiting: Waiting<I, V>[] = [];
  let writing: Promise<void> | null = null;
  /** Cancels the wait for the window to end, while one runs. */
  let waitingForWindow: (() => void) | null = null;

  /** The next group: the oldest items, one per key, at most `maxItems`; the rest stay waiting in order. */
  function takeGroup(): Waiting<I, V>[] {
    const keys = new Set<string>();
    const group: Waiting<I, V>[] = [];
    const rest: Waiting<I, V>[] = [];
    for (const entry of waiting) {
      const key = options.key(entry.item);
      if (group.length < options.maxItems && !keys.has(key)) {
        keys.add(key);
        group.push(entry);
      } else rest.push(entry);
    }
    waiting = rest;
    return group;
  }

  async function write(group: Waiting<I, V>[]): Promise<void> {
    try {
      const values = await commit(group.map((entry) => entry.item));
      group.forEach((entry, i) => entry.resolve(values[i]!));
    } catch (error) {
      if (group.length === 1) group[0]!.reject(error);
      else for (const entry of group) await write([entry]);
    }
  }

  function start(): void {
    waitingForWindow?.();
    waitingForWindow = null;
    writing = write(takeGroup()).finally(() => {
      writing = null;
      // What arrived meanwhile has waited a write already: it goes now, not after another window.
      if (waiting.length > 0) start();
    });
  }

  function schedule(): void {
    if (writing) return;
    if (waiting.length >= options.maxItems) return start();
    if (waitingForWindow) return;
    if (options.windowMs > 0) {
      const timer = setTimeout(start, options.windowMs);
      waitingForWindow = () => clearTimeout(timer);
    } else {
      // After this turn's microtasks, not the next turn of the loop: a loaded loop's turn is
      // milliseconds, and a lone report (a technician's one command) must not wait for it.
      let cancelled = false;
      queueMicrotask(() => {
        if (!cancelled) start();
      });
      waitingForWindow = () => void (cancelled = true);
    }
  }

  return {
    /** Writes the item with the next group; resolves with its value once that group is written. */
    add(item: I): Promise<V> {
      return new Promise<V>((resolve, reject) => {
        waiting.push({ item, resolve, reject });
        schedule();
      });
    },
  };
}
export type GroupCommit<I, V> = ReturnType<typeof createGroupCommit<I, V>>;
