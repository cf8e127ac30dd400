import { timed, type QueryObserver } from '../../platform/obs/query-observer.ts';
import type { TimeSeriesStore } from './types.ts';

/** The same store with writes and queries observed (latency, errors, slow queries). */
export function instrumentTimeSeriesStore(store: TimeSeriesStore, observer: QueryObserver): TimeSeriesStore {
  const name = 'timeseries';
  return {
    ...store,
    engine: store.engine,
    write: (points) => timed(observer, name, 'write', () => `write(${points.length} points)`, () => store.write(points)),
    querySeries: (deviceId, organizationId, range) =>
      timed(observer, name, `series.${range}`, () => `series(device=${deviceId}, range=${range})`, () => store.querySeries(deviceId, organizationId, range)),
    hourlyAggregates: (from, to) =>
      timed(observer, name, 'hourly', () => `hourly(${from.toISOString()}..${to.toISOString()})`, () => store.hourlyAggregates(from, to)),
  };
}
