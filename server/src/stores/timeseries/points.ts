import { deriveMetrics, type DerivedMetrics, type MetricSample } from '@ninjait/shared';
import type { MetricPoint } from './types.ts';

/**
 * What a point is made of: a logged sample and whose it is. The ingest log's sample rows are
 * these (the port names only what it reads, so the store knows nothing of the ingest feature).
 */
export interface SampleRecord {
  kind: 'sample';
  deviceId: string;
  organizationId: string;
  collectedAt: Date;
  payload: MetricSample;
}

/**
 * A logged sample as a time-series point: `deriveMetrics`' numbers, as the raw analytics table
 * stores them, with 0 for what the sample lacks (line protocol has no null or NaN).
 */
export function sampleToPoint(row: SampleRecord): MetricPoint {
  return metricsToPoint(row, deriveMetrics(row.payload));
}

/** `sampleToPoint` for a caller that already derived the sample's metrics for another use. */
export function metricsToPoint(row: SampleRecord, metrics: DerivedMetrics): MetricPoint {
  return {
    deviceId: row.deviceId,
    organizationId: row.organizationId,
    timestamp: row.collectedAt,
    cpu: metrics.cpuPercent ?? 0,
    memory: metrics.memoryPercent ?? 0,
    diskUsed: metrics.diskUsedBytes ?? 0,
    networkRx: metrics.rxBytesPerSec ?? 0,
    networkTx: metrics.txBytesPerSec ?? 0,
    diskPercent: metrics.diskPercent ?? 0,
  };
}

/** Every sample row of a drain batch as points (inventory rows carry no metrics). */
export function batchToPoints(batch: readonly (SampleRecord | { kind: 'inventory' })[]): MetricPoint[] {
  return batch.filter((row): row is SampleRecord => row.kind === 'sample').map(sampleToPoint);
}
