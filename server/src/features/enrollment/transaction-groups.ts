import type { RelationalStore, SqlExecutor } from '../../stores/relational/index.ts';

/** Items one transaction carries at most: a burst becomes several transactions, none holding many locks for long. */
const ITEMS_PER_TRANSACTION = 64;
/**
 * Group transactions open at once: enough that a group waiting on its commit's flush does not
 * stall the next, few enough to leave most of the pool (10 connections) to the token uses, audit
 * inserts and every other request.
 */
const TRANSACTIONS_IN_FLIGHT = 3;

/** How one item ended: failure is a value, with whether its transaction surely wrote nothing. */
export type ItemOutcome<R> = { ok: true; value: R } | { ok: false; error: unknown; rolledBack: boolean };

/** The work a group transaction does, for many items or one. */
export interface GroupWork<I, R> {
  /** Items with the same key never share a transaction (they would not see each other's rows). */
  key(item: I): string;
  /** Does the work of every item in the caller's transaction; one result per item, in their order. */
  all(tx: SqlExecutor, items: readonly I[]): Promise<R[]>;
}

interface Queued<I, R> {
  item: I;
  settle: (outcome: ItemOutcome<R>) => void;
}

/**
 * Items done in shared transactions: those that arrive while the open ones run go in the next,
 * so a burst (a roll-out's enrollments) pays one BEGIN, lock, insert and COMMIT per group
 * instead of per item, and a quiet server adds no wait. When a group's work fails, each of its
 * items is tried again in a transaction of its own, so one bad item takes no other with it. A
 * failed COMMIT may have committed: its items fail without a retry, as not surely rolled back.
 */
export function createTransactionGroups<I, R>(db: RelationalStore, work: GroupWork<I, R>) {
  const queued: Queued<I, R>[] = [];
  let inFlight = 0;

  /** The next group: queued items in order, each key once; an item whose key is taken waits for the next group. */
  function takeGroup(): Queued<I, R>[] {
    const group: Queued<I, R>[] = [];
    const keys = new Set<string>();
    for (let i = 0; i < queued.length && group.length < ITEMS_PER_TRANSACTION;) {
      const key = work.key(queued[i]!.item);
      if (keys.has(key)) {
        i++;
        continue;
      }
      keys.add(key);
      group.push(...queued.splice(i, 1));
    }
    return group;
  }

  async function run(group: readonly Queued<I, R>[]): Promise<void> {
    let workFailed = false;
    try {
      const results = await db.transaction((tx) => work.all(tx, group.map((queuedItem) => queuedItem.item)).catch((error: unknown) => {
        workFailed = true;
        throw error;
      }));
      group.forEach((queuedItem, i) => queuedItem.settle({ ok: true, value: results[i]! }));
    } catch (error) {
      if (!workFailed || group.length === 1) {
        for (const queuedItem of group) queuedItem.settle({ ok: false, error, rolledBack: workFailed });
        return;
      }
      await Promise.all(group.map((queuedItem) => run([queuedItem])));
    }
  }

  function pump(): void {
    while (inFlight < TRANSACTIONS_IN_FLIGHT && queued.length > 0) {
      const group = takeGroup();
      inFlight++;
      void run(group).finally(() => {
        inFlight--;
        pump();
      });
    }
  }

  return {
    /** Does the item's work in the next group transaction. */
    do(item: I): Promise<ItemOutcome<R>> {
      return new Promise((settle) => {
        queued.push({ item, settle });
        pump();
      });
    },
  };
}
