/**
 * A push-driven async iterable for subscriptions: producers `push`, one consumer iterates
 * until `end()` or the signal aborts. Unbounded on purpose: items are small and the socket's
 * own backpressure sits behind the consumer.
 */
export function createAsyncQueue<T>(signal?: AbortSignal) {
  const items: T[] = [];
  let wake: (() => void) | null = null;
  let ended = false;
  let failure: unknown = null;
  const notify = () => {
    wake?.();
    wake = null;
  };
  signal?.addEventListener('abort', () => {
    ended = true;
    notify();
  }, { once: true });

  return {
    /** False when the queue has ended and the item was dropped. */
    push(item: T): boolean {
      if (ended) return false;
      items.push(item);
      notify();
      return true;
    },
    end() {
      ended = true;
      notify();
    },
    fail(error: unknown) {
      failure = error;
      ended = true;
      notify();
    },
    get ended() {
      return ended;
    },
    async *[Symbol.asyncIterator](): AsyncGenerator<T> {
      for (;;) {
        if (items.length > 0) {
          yield items.shift()!;
          continue;
        }
        if (failure) throw failure;
        if (ended || signal?.aborted) return;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
  };
}
