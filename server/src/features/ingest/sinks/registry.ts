import type { RelationalStore } from '../../../stores/relational/index.ts';
import type { CacheStore } from '../../../stores/cache/index.ts';
import type { Env } from '../../../platform/config/index.ts';
import type { Logger } from '../../../platform/obs/logger.ts';
import type { Sink } from './types.ts';
import { createRelationalSink } from './relational-sink.ts';
import { createCacheSink } from './cache-sink.ts';
import { createClickhouseSink } from './clickhouse-sink.ts';
import { createInfluxSink } from './influx-sink.ts';
import type { AnalyticsStore } from '../../../stores/analytics/index.ts';
import { influxSettings } from '../../../stores/timeseries/index.ts';
import type { EventPublisher } from '../../events/index.ts';

export interface SinkDeps {
  env: Env;
  db: RelationalStore;
  cache: CacheStore;
  log: Logger;
  /** Always present: ClickHouse when CLICKHOUSE_URL is set, chdb otherwise. */
  analytics?: AnalyticsStore;
  /** `device.online` is published where a sample brings a device back. */
  events: EventPublisher;
}

/** A factory returns null when its store is not configured. */
type SinkFactory = (deps: SinkDeps) => Sink | null | Promise<Sink | null>;

/** Every destination of the ingest log, in one list. */
export const sinkFactories = {
  relational: (deps) => createRelationalSink(deps.db, deps.events),
  cache: (deps) => createCacheSink(deps.cache),
  // The raw table is the time-series store unless InfluxDB is configured (the same choice `openTimeSeriesStore`
  // makes): then the series live there only, and ClickHouse keeps no second copy.
  clickhouse: (deps) => (deps.analytics ? createClickhouseSink(deps.analytics, { rawSamples: influxSettings(deps.env) === null }) : null),
  influx: (deps) => createInfluxSink(deps.env, deps.log, deps.analytics),
} satisfies Record<string, SinkFactory>;

export async function createConfiguredSinks(deps: SinkDeps): Promise<Sink[]> {
  const sinks = await Promise.all(Object.values(sinkFactories).map((factory: SinkFactory) => factory(deps)));
  return sinks.filter((sink): sink is Sink => sink !== null);
}
