import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Registry } from 'prom-client';

const NAME = 'ninjait_event_loop_delay_seconds';
/** How often the monitor's timer checks the loop: a stall shorter than this is not seen. */
const RESOLUTION_MS = 10;
/**
 * perf_hooks records each interval between its timer's runs, not how late the run was: an idle
 * loop reads 10.1 ms at p50 with a 10 ms resolution. The delay is what is left after the
 * resolution (the server's figures read 10 ms high until this was taken off).
 */
const lateSeconds = (intervalNs: number) => Math.max(0, intervalNs / 1e6 - RESOLUTION_MS) / 1000;
/** Up to the stalls seen with 10,000 agents (seconds): finer where the latency goals are (50 and 100 ms). */
const BUCKETS_SECONDS = [0.005, 0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2, 5, 10] as const;

/**
 * `ninjait_event_loop_delay_seconds`: how late the event loop ran a timer, as a cumulative
 * histogram (rate()-able; a benchmark subtracts two scrapes). Every socket waits out a long
 * synchronous stretch of any feature, so this is the server-wide share of every request's latency.
 *
 * perf_hooks samples it natively into an HDR histogram that is never reset (a reset drops the
 * next interval, which loses a stall that follows a scrape); each scrape turns it into
 * Prometheus buckets from its percentile steps, which are exact in the tail the buckets are for.
 * A bucket never goes down between scrapes, as Prometheus expects of a counter.
 */
export function eventLoopDelayHistogram(registry: Registry) {
  const monitor = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  monitor.enable();
  const counted = BUCKETS_SECONDS.map(() => 0);
  const metric = {
    name: NAME,
    help: `Event-loop delay: how late a ${RESOLUTION_MS} ms timer ran (perf_hooks.monitorEventLoopDelay)`,
    type: 'histogram' as const,
    aggregator: 'sum' as const,
    get() {
      const count = monitor.count;
      const steps = [...monitor.percentiles];
      BUCKETS_SECONDS.forEach((le, i) => {
        const share = steps.reduce((best, [percentile, ns]) => (lateSeconds(ns) <= le ? Math.max(best, percentile) : best), 0) / 100;
        counted[i] = Math.min(count, Math.max(counted[i]!, Math.round(count * share)));
      });
      const values = [
        ...BUCKETS_SECONDS.map((le, i) => ({ metricName: `${NAME}_bucket`, labels: { le }, value: counted[i]! })),
        { metricName: `${NAME}_bucket`, labels: { le: '+Inf' }, value: count },
        // The mean is NaN before the first sample.
        { metricName: `${NAME}_sum`, labels: {}, value: count > 0 ? lateSeconds(monitor.mean) * count : 0 },
        { metricName: `${NAME}_count`, labels: {}, value: count },
      ];
      return { name: NAME, help: metric.help, type: metric.type, aggregator: metric.aggregator, values };
    },
  };
  registry.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0]);
  return { disable: () => monitor.disable() };
}
