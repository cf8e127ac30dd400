import type { IngestRow } from '../../features/ingest/sinks/types.ts';
import { deriveMetrics, type DerivedMetrics } from '@ninjait/shared';
import type { MetricPoint } from './types.ts';

/**
 * A logged sample as a time-series point: `deriveMetrics`' numbers, as the raw analytics table
 * stores them, with 0 for what the sample lacks (line protocol has no null or NaN).
 */
export function sampleToPoint(row: Extract<IngestRow, { kind: 'sample' }>): MetricPoint {
  return metricsToPoint(row, deriveMetrics(row.payload));
}

/** `sampleToPoint` for a caller that already derived the sample's metrics for another use. */
export function metricsToPoint(row: Extract<IngestRow, { kind: 'sample' }>, metrics: DerivedMetrics): MetricPoint {
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
export function batchToPoints(batch: readonly IngestRow[]): MetricPoint[] {
  return batch.filter((row): row is Extract<IngestRow, { kind: 'sample' }> => row.kind === 'sample').map(sampleToPoint);
}
