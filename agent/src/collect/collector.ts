import { waitAtMost, type Inventory, type MetricSample } from '@ninjait/shared';
import type { Logger } from '../log.ts';
import type { Outbox } from '../outbox/types.ts';
import { systemClock, type Clock } from '../util/clock.ts';
import type { RecentErrors } from '../util/recent-errors.ts';
import { collectInventory } from './inventory.ts';
import { createSampler } from './sample.ts';

export const INVENTORY_INTERVAL_MS = 60 * 60_000;

export interface CollectorOptions {
  outbox: Pick<Outbox, 'append'>;
  intervalMs: number;
  log: Logger;
  errors: RecentErrors;
  /** Called after each append, so the sender can push it right away. */
  onAppend?: () => void;
  inventoryIntervalMs?: number;
  clock?: Clock;
  /** Injectable probes (tests); default to the kernel's files on Linux, systeminformation elsewhere. */
  sample?: () => Promise<MetricSample>;
  inventory?: () => Promise<Inventory>;
}

export interface CollectorStats {
  samples: number;
  inventories: number;
  failures: number;
  dropped: number;
}

/** Periodic collection into the outbox. */
export interface Collector {
  /** Collects now, then every interval (and inventory now, then hourly). */
  start(): void;
  /** Stops scheduling; waits up to `graceMs` for a collection in progress. */
  stop(graceMs?: number): Promise<void>;
  stats(): CollectorStats;
  /** Collects at this interval from now on: the next sample is due one new interval after the last one started. */
  setIntervalMs(intervalMs: number): void;
  readonly intervalMs: number;
}

/**
 * Every interval: one sample into the outbox, plus the inventory when it is due. Ticks are
 * anchored to the start time so they do not drift, and never overlap: a slow collection
 * delays the next tick instead of stacking up. Failures are logged and counted and go out
 * with the next heartbeat; they never stop the loop.
 */
export function createCollector(opts: CollectorOptions): Collector {
  const { outbox, log, errors } = opts;
  const clock = opts.clock ?? systemClock;
  const inventoryEvery = opts.inventoryIntervalMs ?? INVENTORY_INTERVAL_MS;
  const stats: CollectorStats = { samples: 0, inventories: 0, failures: 0, dropped: 0 };
  const sample = opts.sample ?? createSampler({
    onPartialFailure: (f) => fail(`collect.${f.part}`, f.error),
    onFallback: (f) => log.warn({ part: f.part, err: f.error instanceof Error ? f.error.message : String(f.error) }, 'reading the kernel\'s files failed: this part comes from systeminformation from now on'),
  });
  const inventory = opts.inventory ?? (() => collectInventory());
  let stopped = true;
  let timer: unknown;
  let current: Promise<void> = Promise.resolve();
  let nextAt = 0;
  let intervalMs = opts.intervalMs;
  let ticking = false;
  let inventoryDueAt = 0;

  const fail = (code: string, err: unknown) => {
    stats.failures++;
    errors.record(code, err);
    log.warn({ code, err: err instanceof Error ? err.message : String(err) }, 'collection failed');
  };

  const store = (kind: string, write: () => { seq: number; dropped: number }) => {
    if (stopped) return; // the outbox may already be closed
    const { seq, dropped } = write();
    stats.dropped += dropped;
    if (dropped > 0) log.warn({ dropped, seq }, 'outbox full: dropped the oldest records');
    log.debug({ kind, seq }, 'collected');
    opts.onAppend?.();
  };

  const tick = async () => {
    const collectedAt = clock.now();
    try {
      const s = await sample();
      store('sample', () => outbox.append({ kind: 'sample', collectedAt, sample: s }));
      stats.samples++;
    } catch (err) {
      fail('collect.sample', err);
    }
    if (clock.now() >= inventoryDueAt) {
      inventoryDueAt = clock.now() + inventoryEvery;
      try {
        const inv = await inventory();
        store('inventory', () => outbox.append({ kind: 'inventory', collectedAt: clock.now(), inventory: inv }));
        stats.inventories++;
      } catch (err) {
        fail('collect.inventory', err);
      }
    }
  };

  const schedule = () => {
    if (stopped) return;
    ticking = false;
    nextAt += intervalMs;
    // After a long stall (suspend, slow probe) skip missed ticks rather than burst them.
    if (nextAt < clock.now()) nextAt = clock.now() + intervalMs;
    timer = clock.setTimeout(run, nextAt - clock.now());
  };
  const run = () => {
    ticking = true;
    current = tick().finally(schedule);
  };

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      nextAt = clock.now();
      inventoryDueAt = clock.now();
      run();
    },
    async stop(graceMs = 1_000) {
      stopped = true;
      clock.clearTimeout(timer);
      await waitAtMost(current, graceMs);
    },
    stats: () => ({ ...stats }),
    get intervalMs() {
      return intervalMs;
    },
    setIntervalMs(next) {
      if (next === intervalMs) return;
      const lastStart = nextAt - intervalMs;
      intervalMs = next;
      // A tick in progress schedules the next itself; a waiting one is moved to the new due time.
      if (stopped || ticking) return;
      clock.clearTimeout(timer);
      nextAt = Math.max(lastStart + next, clock.now());
      timer = clock.setTimeout(run, nextAt - clock.now());
    },
  };
}
