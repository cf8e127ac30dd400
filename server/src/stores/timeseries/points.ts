import type { IngestRow } from '../../sinks/types.ts';
import type { MetricPoint } from './types.ts';

const sum = (values: readonly number[]) => values.reduce((total, value) => total + value, 0);

/** A logged sample as a time-series point; the same arithmetic as the raw analytics table. */
export function sampleToPoint(row: Extract<IngestRow, { kind: 'sample' }>): MetricPoint {
  const { cpu, memory, disks, network } = row.payload;
  return {
    deviceId: row.deviceId,
    organizationId: row.organizationId,
    timestamp: row.collectedAt,
    cpu: cpu.loadPercent,
    memory: memory.totalBytes > 0 ? (memory.usedBytes / memory.totalBytes) * 100 : 0,
    diskUsed: sum(disks.map((disk) => disk.usedBytes)),
    networkRx: sum(network.map((nic) => nic.rxBytesPerSec ?? 0)),
    networkTx: sum(network.map((nic) => nic.txBytesPerSec ?? 0)),
  };
}

/** Every sample row of a drain batch as points (inventory rows carry no metrics). */
export function batchToPoints(batch: readonly IngestRow[]): MetricPoint[] {
  return batch.filter((row): row is Extract<IngestRow, { kind: 'sample' }> => row.kind === 'sample').map(sampleToPoint);
}
