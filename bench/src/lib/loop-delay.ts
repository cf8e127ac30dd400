import type { MetricValues } from './metrics.ts';
import { round } from './stats.ts';

const HISTOGRAM = 'ninjait_event_loop_delay_seconds';
/**
 * prom-client's gauge: the longest interval between its 10 ms timer's runs since the previous
 * scrape (perf_hooks' figure, which includes the timer's own 10 ms: taken off here).
 */
const MAX_SINCE_SCRAPE = 'ninjait_process_nodejs_eventloop_lag_max_seconds';
const MAX_GAUGE_RESOLUTION_SECONDS = 0.01;

/** Cumulative counts by upper bound (seconds), in order; +Inf last. */
function buckets(values: MetricValues): [number, number][] {
  const out: [number, number][] = [];
  for (const [key, value] of values) {
    const le = new RegExp(`^${HISTOGRAM}_bucket\\{le="([^"]+)"\\}$`).exec(key)?.[1];
    if (le !== undefined) out.push([le === '+Inf' ? Infinity : Number(le), value]);
  }
  return out.sort((a, b) => a[0] - b[0]);
}

/**
 * The server's event-loop delay between two scrapes of one instance: p50/p99 interpolated within
 * the histogram's buckets, and the exact max (prom-client's gauge, which covers the time since
 * the previous scrape: `before` must be the scrape just before the window).
 */
export function loopDelayBetween(before: MetricValues, after: MetricValues) {
  const start = new Map(buckets(before));
  const window = buckets(after).map(([le, count]) => [le, count - (start.get(le) ?? 0)] as const);
  const total = window.at(-1)?.[1] ?? 0;
  const quantileMs = (q: number) => {
    if (total === 0) return 0;
    const rank = q * total;
    let lower = 0;
    let below = 0;
    for (const [le, count] of window) {
      if (count >= rank) {
        const upper = Number.isFinite(le) ? le : lower;
        return round((lower + ((upper - lower) * (rank - below)) / Math.max(1, count - below)) * 1000, 1);
      }
      lower = le;
      below = count;
    }
    return round(lower * 1000, 1);
  };
  const over = (seconds: number) => total - (window.find(([le]) => le >= seconds)?.[1] ?? total);
  return {
    samples: total,
    p50Ms: quantileMs(0.5), p99Ms: quantileMs(0.99),
    maxMs: round(Math.max(0, (after.get(MAX_SINCE_SCRAPE) ?? 0) - MAX_GAUGE_RESOLUTION_SECONDS) * 1000, 1),
    /** Samples (10 ms apart when idle) that waited past 50 ms and past 250 ms: how often requests stall. */
    over50Ms: over(0.05), over250Ms: over(0.25),
  };
}
export type LoopDelay = ReturnType<typeof loopDelayBetween>;
