import type { Logger } from '../../../platform/obs/logger.ts';
import { batchToPoints, createInfluxTimeSeriesStore, influxSettings, type InfluxConfig, type TimeSeriesStore } from '../../../stores/timeseries/index.ts';
import { isRetryableInfluxError } from '../../../stores/timeseries/influx/influx-store.ts';
import type { AnalyticsStore } from '../../../stores/analytics/index.ts';
import { markHoursDirty } from '../../analytics/index.ts';
import { failure, success, type Sink } from './types.ts';
import { splitStorable } from './values.ts';

/**
 * Every sample into the time-series store as one write per batch. Idempotent: a point is
 * identified by series (measurement + tags) and its ms timestamp, so a replay overwrites itself.
 * With `analytics`, finished hours that got samples are marked dirty once written: the hourly
 * rollup reads this store, and a batch that lands late (this sink drains apart from the others)
 * must have its hours redone.
 */
export function createTimeSeriesSink(store: TimeSeriesStore, name = 'influx', analytics?: AnalyticsStore): Sink {
  return {
    name,
    async init() {},
    async write(batch) {
      try {
        const { storable, rejected } = splitStorable(batch);
        const points = batchToPoints(storable);
        if (points.length > 0) await store.write(points);
        if (analytics) await markHoursDirty(analytics, points.map((point) => point.timestamp.getTime()));
        return success(rejected);
      } catch (error) {
        // Not an HTTP answer (undefined): `failure` classifies the error itself.
        return failure(error, isRetryableInfluxError(error));
      }
    },
    health: () => store.health(),
    close: () => store.close(),
  };
}

/** The registry's factory: a sink only when all four INFLUX_* variables are set. */
export function createInfluxSink(env: InfluxConfig, log: Logger, analytics?: AnalyticsStore): Sink | null {
  const settings = influxSettings(env);
  return settings ? createTimeSeriesSink(createInfluxTimeSeriesStore({ ...settings, log }), 'influx', analytics) : null;
}
