import type { Logger } from '../obs/logger.ts';
import { batchToPoints, createInfluxTimeSeriesStore, influxSettings, type InfluxConfig, type TimeSeriesStore } from '../stores/timeseries/index.ts';
import { isRetryableInfluxError } from '../stores/timeseries/influx/influx-store.ts';
import { failure, type Sink } from './types.ts';

/**
 * Every sample into the time-series store as one write per batch. Idempotent: a point is
 * identified by series (measurement + tags) and its ms timestamp, so a replay overwrites itself.
 */
export function createTimeSeriesSink(store: TimeSeriesStore, name = 'influx'): Sink {
  return {
    name,
    async init() {},
    async write(batch) {
      const points = batchToPoints(batch);
      if (points.length === 0) return { ok: true };
      try {
        await store.write(points);
        return { ok: true };
      } catch (error) {
        return failure(error, isRetryableInfluxError(error));
      }
    },
    health: () => store.health(),
    close: () => store.close(),
  };
}

/** The registry's factory: a sink only when all four INFLUX_* variables are set. */
export function createInfluxSink(env: InfluxConfig, log: Logger): Sink | null {
  const settings = influxSettings(env);
  return settings ? createTimeSeriesSink(createInfluxTimeSeriesStore({ ...settings, log })) : null;
}
