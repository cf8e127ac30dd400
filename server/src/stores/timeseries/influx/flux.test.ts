import { describe, expect, it } from 'vitest';
import { SERIES_RANGES, resolutionFor } from '../types.ts';
import { bucketFor, cardinalityQuery, downsampleTasks, hourlyQuery, retentionBuckets, seriesQuery } from './flux.ts';

const DEVICE = '0b5c2a4e-8f3d-4a51-9c1e-2f6b7d8e9a01';
const ORG = '7d1e0c3b-2a4f-4e6d-8b9a-1c2d3e4f5a6b';

describe('Flux', () => {
  it("is the strategy's dashboard query for the last hour, scoped to the organization too", () => {
    expect(seriesQuery('metrics', DEVICE, ORG, '1h')).toBe(`from(bucket: "metrics")
  |> range(start: -1h)
  |> filter(fn: (r) => r._measurement == "device_metrics")
  |> filter(fn: (r) => r.device_id == "${DEVICE}")
  |> filter(fn: (r) => r.organization_id == "${ORG}")
  |> aggregateWindow(every: 5m, fn: mean)
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")`);
  });

  it('reads the hourly rollup from the raw bucket: means and peaks per device and hour, stamped with the hour\'s start', () => {
    const query = hourlyQuery('metrics', new Date('2026-01-01T10:00:00Z'), new Date('2026-01-01T12:00:00Z'));
    expect(query).toContain('from(bucket: "metrics")');
    expect(query).toContain('range(start: 2026-01-01T10:00:00.000Z, stop: 2026-01-01T12:00:00.000Z)');
    expect(query).toContain('r._field == "cpu" or r._field == "memory" or r._field == "disk_usage" or r._field == "network_rx" or r._field == "network_tx"');
    expect(query).toContain('aggregateWindow(every: 1h, fn: mean, createEmpty: false, timeSrc: "_start")');
    expect(query).toContain('aggregateWindow(every: 1h, fn: max, createEmpty: false, timeSrc: "_start")');
    expect(query).toContain('group(columns: ["device_id", "organization_id"])');
    // A bucket name is a value: quoted, never spliced into the query.
    expect(hourlyQuery('m") |> drop(', new Date(0), new Date(3_600_000))).toContain('from(bucket: "m\\") |> drop(")');
  });

  it('reads longer ranges with wider windows: 30 days from the 5-minute means, a year from the hourly ones', () => {
    expect(seriesQuery('metrics', DEVICE, ORG, '24h')).toContain('from(bucket: "metrics")');
    expect(seriesQuery('metrics', DEVICE, ORG, '24h')).toContain('range(start: -24h)');
    expect(seriesQuery('metrics', DEVICE, ORG, '24h')).toContain('aggregateWindow(every: 1h, fn: mean)');
    expect(seriesQuery('metrics', DEVICE, ORG, '30d')).toContain('from(bucket: "metrics_5m")');
    expect(seriesQuery('metrics', DEVICE, ORG, '30d')).toContain('aggregateWindow(every: 1d, fn: mean)');
    expect(seriesQuery('metrics', DEVICE, ORG, '1y')).toContain('from(bucket: "metrics_1h")');
    expect(seriesQuery('metrics', DEVICE, ORG, '1y')).toContain('range(start: -365d)');
    expect(SERIES_RANGES.map((range) => bucketFor('metrics', range))).toEqual(['metrics', 'metrics', 'metrics_5m', 'metrics_1h']);
  });

  it('chooses the finest resolution that still holds the whole span', () => {
    const day = 86_400;
    expect(resolutionFor(60)).toBe('raw');
    expect(resolutionFor(7 * day)).toBe('raw');
    expect(resolutionFor(7 * day + 1)).toBe('5m');
    expect(resolutionFor(90 * day)).toBe('5m');
    expect(resolutionFor(90 * day + 1)).toBe('1h');
    // Past two years nothing holds the span: the hourly means are the longest there are.
    expect(resolutionFor(10 * 365 * day)).toBe('1h');
  });

  it('counts a bucket\'s series over its retention', () => {
    expect(cardinalityQuery('metrics_5m', 90 * 86_400)).toBe(`import "influxdata/influxdb"
influxdb.cardinality(bucket: "metrics_5m", start: -7776000s)`);
  });

  it('escapes values, so an id cannot inject Flux', () => {
    expect(seriesQuery('metrics', 'x") |> drop(columns: ["a"]', ORG, '1h')).toContain('r.device_id == "x\\") |> drop(columns: [\\"a\\"]"');
  });

  it('keeps 7 days raw, 90 days of 5-minute means and 2 years of hourly means, filled by tasks', () => {
    expect(Object.values(retentionBuckets('metrics')).map((b) => [b.name, b.everySeconds / 86_400])).toEqual([
      ['metrics', 7], ['metrics_5m', 90], ['metrics_1h', 730],
    ]);
    const [fiveMinute, hourly] = downsampleTasks('metrics', 'acme');
    expect(fiveMinute!.flux).toContain('option task = {name: "ninjait-device-metrics-5m", every: 5m');
    expect(fiveMinute!.flux).toContain('aggregateWindow(every: 5m, fn: mean, createEmpty: false)');
    expect(fiveMinute!.flux).toContain('to(bucket: "metrics_5m", org: "acme")');
    expect(hourly!.flux).toContain('aggregateWindow(every: 1h, fn: mean, createEmpty: false)');
    expect(hourly!.flux).toContain('to(bucket: "metrics_1h", org: "acme")');
  });
});
