import type { Logger } from '../../platform/obs/logger.ts';
import type { TimeSeriesStore } from './types.ts';
import { createEmbeddedTimeSeriesStore, type AnalyticsReader } from './embedded/embedded-store.ts';
import { createInfluxTimeSeriesStore } from './influx/influx-store.ts';

export type { HourlyAggregate, MetricPoint, SeriesPoint, SeriesRange, TimeSeriesStore } from './types.ts';
export { SERIES_RANGES, RANGE_WINDOWS, RESOLUTIONS, resolutionFor, type Resolution } from './types.ts';
export { batchToPoints, metricsToPoint, sampleToPoint, type SampleRecord } from './points.ts';
export { createEmbeddedTimeSeriesStore, createInfluxTimeSeriesStore, type AnalyticsReader };
export type { InfluxTimeSeriesStore } from './influx/influx-store.ts';
export type { RetentionReport } from './influx/retention.ts';
export { lineProtocolBytes, toInfluxPoint } from './influx/influx-store.ts';
export { instrumentTimeSeriesStore } from './instrumented.ts';

export interface InfluxConfig {
  INFLUX_URL?: string | undefined;
  INFLUX_TOKEN?: string | undefined;
  INFLUX_ORG?: string | undefined;
  INFLUX_BUCKET?: string | undefined;
  /** Leave existing buckets' retention as the operator set it instead of the strategy's figures. */
  INFLUX_KEEP_RETENTION?: boolean | undefined;
}

/** The four variables together, or null: half an InfluxDB configuration means none. */
export function influxSettings(env: InfluxConfig) {
  const { INFLUX_URL: url, INFLUX_TOKEN: token, INFLUX_ORG: org, INFLUX_BUCKET: bucket } = env;
  return url && token && org && bucket ? { url, token, org, bucket } : null;
}

/**
 * InfluxDB when all four INFLUX_* variables are set (buckets and downsampling tasks are set up
 * at start, best effort), the analytics engine's raw table otherwise.
 */
export async function openTimeSeriesStore(env: InfluxConfig, analytics: AnalyticsReader, log: Logger): Promise<TimeSeriesStore> {
  const influx = influxSettings(env);
  if (!influx) return createEmbeddedTimeSeriesStore(analytics);
  const store = createInfluxTimeSeriesStore({ ...influx, keepExistingRetention: env.INFLUX_KEEP_RETENTION ?? false, log });
  // A server that cannot manage buckets (a write-only token, or a line-protocol peer such as
  // VictoriaMetrics) still writes and reads; it only lacks the rollups, which the log says.
  await store.ensureRetention().then(() => undefined, (error: unknown) =>
    log.warn({ err: error }, 'could not set up InfluxDB retention buckets and downsampling tasks; writing to INFLUX_BUCKET only'));
  return store;
}
